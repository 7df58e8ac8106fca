"""The periodic return's targets (the plans' 100%) and hotspot communes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from tests.conftest import Actor, World
from tests.reports import report_seed as seed

URL = "/api/v1/reports/periodic"


async def _get(world: World, who: Actor, **params: Any) -> dict[str, Any]:
    response = await world.client.get(URL, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _targets(report: dict[str, Any]) -> dict[str, tuple[int, int, float | None, int]]:
    return {
        t["key"]: (t["numerator"], t["denominator"], t["percent"], t["target_percent"])
        for t in report["targets"]
    }


def _communes(report: dict[str, Any]) -> dict[str, tuple[int, bool, str]]:
    [section] = [b for b in report["breakdowns"] if b["name"] == "commune"]
    return {p["key"]: (p["count"], p["hotspot"], p["label"]) for p in section["parts"]}


async def _hotspot(world: World, province: str, commune: str, name: str | None) -> None:
    await world.session.execute(
        text("INSERT INTO hotspot_communes VALUES (:province, :commune, :name)"),
        {"province": province, "commune": commune, "name": name},
    )
    await world.session.commit()


class TestTargets:
    async def test_each_target_is_numerator_denominator_and_percentage(self, world: World) -> None:
        owner = await seed.owner(world)
        needy = await seed.cases(world, owner, 8, first_needs=["shelter", "food"])
        await seed.cases(world, owner, 4)  # no need recorded
        # Verified: 9 of the 12 received (3 of them not in need).
        others = await seed.cases(world, owner, 3)
        await seed.moved(world, needy[:6] + others, "verifying")
        await seed.verified(world, owner, needy[:6] + others)
        # Supported by the period's end: 5 in need (one twice); one only after it
        # (August), one requested but not delivered; a person not in need helped too.
        await seed.services(world, owner, needy[:5])
        await seed.services(world, owner, needy[:1], type="medical")
        late = datetime(2026, 8, 1, 3, tzinfo=UTC)
        await seed.services(world, owner, needy[5:6], delivered_at=late)
        await seed.services(world, owner, needy[6:7], status="requested")
        await seed.hotline_reports(world, owner, 3, status="open")
        await seed.hotline_reports(world, owner, 2, status="forwarded")
        await seed.hotline_reports(world, owner, 4, status="case_opened")
        await seed.hotline_reports(world, owner, 1, status="closed")
        report = await _get(world, await seed.officer(world), period="2026-S1")
        assert report["persons_received"] == 15
        assert _targets(report) == {
            "received_verified": (9, 15, 60.0, 100),
            "in_need_supported": (5, 8, 62.5, 100),
            "reports_handled": (7, 10, 70.0, 100),
        }
        labels = {t["key"]: t["label"] for t in report["targets"]}
        assert labels["in_need_supported"] == "Người có nhu cầu đã được hỗ trợ"

    async def test_nothing_to_count_has_no_percentage(self, world: World) -> None:
        report = await _get(world, await seed.officer(world), period="2026-S1")
        assert {k: v[2] for k, v in _targets(report).items()} == {
            "received_verified": None,
            "in_need_supported": None,
            "reports_handled": None,
        }


class TestHotspots:
    async def test_hotspot_communes_are_flagged_and_listed(self, world: World) -> None:
        owner = await seed.owner(world)
        await _hotspot(world, "40", "17000", "Xã Thử Nghiệm")
        await _hotspot(world, "40", "17001", None)
        await _hotspot(world, "37", "15000", "Xã Khác Tỉnh")
        await seed.cases(world, owner, 6, received_commune_code="17000")
        await seed.cases(world, owner, 4, received_commune_code="17010")
        await seed.cases(world, owner, 3)
        report = await _get(world, await seed.officer(world), period="2026-S1")
        assert _communes(report) == {
            "17000": (6, True, "Xã Thử Nghiệm"),
            "17001": (0, True, "17001"),
            "17010": (4, False, "17010"),
            "unknown": (3, False, "Chưa ghi nhận"),
        }
        assert report["persons_received_in_hotspots"] == 6
        national = await _get(world, await seed.officer(world, None), period="2026-S1")
        assert _communes(national)["15000"] == (0, True, "Xã Khác Tỉnh")

    async def test_without_hotspots_nothing_is_flagged(self, world: World) -> None:
        await seed.cases(world, await seed.owner(world), 2, received_commune_code="17000")
        report = await _get(world, await seed.officer(world), period="2026-S1")
        assert _communes(report) == {"17000": (2, False, "17000")}
        assert report["persons_received_in_hotspots"] == 0
