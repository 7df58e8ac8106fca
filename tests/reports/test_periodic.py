"""`GET /api/v1/reports/periodic`: the province's official return, exact, every
breakdown adding up to its total, as JSON, CSV or XLSX, of the caller's scope, for the
reporting officer only. Periods, targets, hotspots and languages have their own
files (test_periodic_periods.py, test_periodic_targets.py, test_periodic_files.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import Actor, World, assert_problem
from tests.reports import report_seed as seed

URL = "/api/v1/reports/periodic"
AUGUST = datetime(2026, 8, 10, 3, 0, tzinfo=UTC)


async def _get(world: World, who: Actor, **params: Any) -> dict[str, Any]:
    response = await world.client.get(URL, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _parts(report: dict[str, Any], name: str) -> dict[str, int]:
    [section] = [b for b in report["breakdowns"] if b["name"] == name]
    return {p["key"]: p["count"] for p in section["parts"]}


async def _province(world: World, owner: Actor) -> None:
    """A varied half year in one province (all inside 2026-S1 and 2026-H1)."""
    women = await seed.cases(
        world,
        owner,
        6,
        victim_sex="female",
        victim_age_at_intake=15,
        destination_country="CN",
        exploitation_types=["sexual"],
        victim_ethnicity_group="minority",
        received_commune_code="17000",
        first_needs=["shelter"],
    )
    men = await seed.cases(
        world,
        owner,
        4,
        victim_sex="male",
        victim_age_at_intake=17,
        destination_country="KH",
        exploitation_types=["forced_labour", "forced_begging"],
        victim_ethnicity_group="kinh",
        received_commune_code="17010",
        first_needs=["medical_urgent", "food"],
    )
    await seed.cases(
        world,
        owner,
        2,
        victim_sex="unknown",
        victim_age_at_intake=None,
        destination_country="JP",
        exploitation_types=["sexual", "forced_marriage"],
    )
    await seed.cases(world, owner, 1, destination_country="VN", victim_age_at_intake=9)
    # Ten cases moved to `verifying`, eight of them verified (the record) in the half
    # year and one in the next: only the records count, each in its own period.
    await seed.moved(world, women + men, "verifying")
    await seed.verified(world, owner, women + men[:2])
    await seed.verified(world, owner, men[2:3], at=AUGUST)
    await seed.moved(world, women, "identified")
    await seed.services(world, owner, women, type="essential_needs", amount_vnd=150_000)
    await seed.services(world, owner, men[:2], type="medical", amount_vnd=1_000_000)
    await seed.hotline_reports(world, owner, 5, status="open")
    await seed.hotline_reports(world, owner, 3, status="case_opened")
    await seed.hotline_reports(world, owner, 2, status="forwarded")
    await seed.hotline_reports(world, owner, 1, status="closed")


class TestPeriodic:
    async def test_anonymous_is_401(self, world: World) -> None:
        assert_problem(await world.client.get(URL, params={"period": "2026"}), 401)

    async def test_roles_without_reports_read_get_404(
        self, world: World, engine: AsyncEngine
    ) -> None:
        worker = await world.user(Role.CASE_WORKER)
        mark = await last_event_id(engine)
        response = await world.client.get(URL, params={"period": "2026"}, headers=worker.headers)
        assert_problem(response, 404)
        [event] = await events_after(engine, mark)
        assert event["reason"] == "missing_permission:reports:exact"

    @pytest.mark.parametrize("role", [Role.ANALYST, Role.SUPERVISOR])
    async def test_exact_figures_are_refused_to_analysts_and_supervisors(
        self, world: World, engine: AsyncEngine, role: Role
    ) -> None:
        await _province(world, await seed.owner(world))
        caller = await world.user(role, await world.agency("social_affairs", "40"))
        mark = await last_event_id(engine)
        for format in ("json", "csv", "xlsx"):
            response = await world.client.get(
                URL, params={"period": "2026", "format": format}, headers=caller.headers
            )
            assert_problem(response, 403)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("access.denied", "denied", "missing_permission:reports:exact")
        ] * 3

    async def test_the_reporting_officer_reads_exact_figures_audited(
        self, world: World, engine: AsyncEngine
    ) -> None:
        await _province(world, await seed.owner(world))
        officer = await seed.officer(world)
        mark = await last_event_id(engine)
        for format in ("json", "csv", "xlsx"):
            response = await world.client.get(
                URL, params={"period": "2026-S1", "format": format}, headers=officer.headers
            )
            assert response.status_code == 200, response.text
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"], str(e["actor_id"])) for e in events] == [
            ("report.periodic", "success", f"format:{f}", str(officer.id))
            for f in ("json", "csv", "xlsx")
        ]
        assert {e["resource_id"] for e in events} == {"periodic:40:2026-S1"}

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"period": "2026-H3"},
            {"period": "2026-Q5"},
            {"period": "2026-S3"},
            {"period": "2026-Q0"},
            {"period": "26"},
            {"period": "1066"},
            {"period": "1066-S1"},
            {"period": "2026-02-30..2026-03-31"},
            {"period": "2026-03-31..2026-03-01"},
            {"period": "2026-01-01..2026-03"},
            {"period": "2026", "format": "pdf"},
            {"period": "2026", "province_code": "x1"},
        ],
    )
    async def test_invalid_queries_are_422(self, world: World, query: dict[str, str]) -> None:
        officer = await seed.officer(world)
        assert_problem(await world.client.get(URL, params=query, headers=officer.headers), 422)

    async def test_officer_of_province_a_cannot_get_province_b(
        self, world: World, engine: AsyncEngine
    ) -> None:
        await _province(world, await seed.owner(world, "37"))
        officer = await seed.officer(world, "40")
        mark = await last_event_id(engine)
        response = await world.client.get(
            URL, params={"period": "2026", "province_code": "37"}, headers=officer.headers
        )
        assert_problem(response, 403)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "report.periodic",
            "denied",
            "out_of_scope",
        )
        own = await _get(world, officer, period="2026")
        assert (own["scope"], own["persons_received"], own["hotline_received"]) == ("40", 0, 0)

    async def test_the_return_of_a_half_year(self, world: World, engine: AsyncEngine) -> None:
        owner = await seed.owner(world)
        await _province(world, owner)
        await _province(world, await seed.owner(world, "37"))  # another province: not counted
        officer = await seed.officer(world)
        mark = await last_event_id(engine)
        report = await _get(world, officer, period="2026-S1")
        assert (report["first_day"], report["last_day"]) == ("2025-11-16", "2026-05-15")
        assert (report["period_kind"], report["calendar"]) == ("six_monthly", "default")
        assert (
            report["persons_received"],
            report["persons_verified"],
            report["persons_identified"],
        ) == (13, 8, 6)
        assert _parts(report, "sex") == {"female": 7, "male": 4, "other": 0, "unknown": 2}
        assert _parts(report, "age_hotline") == {
            "0-9": 1,
            "10-14": 0,
            "15": 6,
            "16-17": 4,
            "18+": 0,
            "unknown": 2,
        }
        assert _parts(report, "age_ctdc")["9--17"] == 11  # 15, 17 and the 9-year-old
        assert _parts(report, "ethnicity_group") == {
            "kinh": 4,
            "minority": 6,
            "foreign": 0,
            "unknown": 3,
        }
        assert _parts(report, "province") == {"40": 13}
        assert _parts(report, "destination") == {
            "china": 6,
            "laos": 0,
            "cambodia": 4,
            "myanmar": 0,
            "domestic": 1,
            "other": 2,
            "unknown": 0,
        }
        # Begging is forced labour: the men name one form; the JP cases two.
        exclusive = _parts(report, "exploitation")
        assert (exclusive["sexual"], exclusive["labour"], exclusive["multiple"]) == (6, 4, 2)
        assert exclusive["not_recorded"] == 1
        assert _parts(report, "exploitation_forms")["sexual"] == 8
        [supports] = [b for b in report["breakdowns"] if b["name"] == "supports"]
        assert _parts(report, "supports") == {"essential_needs": 6, "medical": 2}
        assert supports["amount_vnd"] == 6 * 150_000 + 2 * 1_000_000
        [event] = await events_after(engine, mark)
        assert (event["action"], event["resource_type"], event["resource_id"]) == (
            "report.periodic",
            "report",
            "periodic:40:2026-S1",
        )
        assert (event["outcome"], event["reason"], event["person_id"]) == (
            "success",
            "format:json",
            None,
        )

    async def test_verified_counts_the_records_not_the_status_clicks(self, world: World) -> None:
        owner = await seed.owner(world)
        clicked = await seed.cases(world, owner, 3, status="verifying")
        await seed.moved(world, clicked, "verifying")
        recorded = await seed.cases(world, owner, 2)
        await seed.verified(world, owner, recorded)
        late = await seed.cases(world, owner, 1)
        await seed.verified(world, owner, late, at=AUGUST)
        analyst = await seed.officer(world)
        first = await _get(world, analyst, period="2026-H1")
        year = await _get(world, analyst, period="2026")
        assert (first["persons_received"], first["persons_verified"]) == (6, 2)
        assert year["persons_verified"] == 3
        other = await _get(world, await seed.officer(world, "37"), period="2026")
        assert other["persons_verified"] == 0

    async def test_foreign_and_unknown_are_groups_of_their_own(self, world: World) -> None:
        owner = await seed.owner(world)
        for group, count in (("foreign", 2), ("unknown", 1), (None, 1), ("kinh", 1)):
            await seed.cases(world, owner, count, victim_ethnicity_group=group)
        report = await _get(world, await seed.officer(world), period="2026-H1")
        assert _parts(report, "ethnicity_group") == {
            "kinh": 1,
            "minority": 0,
            "foreign": 2,
            "unknown": 2,  # established as unknown, or never recorded
        }

    async def test_resolved_hotline_reports_leave_forwarded_ones_apart(self, world: World) -> None:
        await _province(world, await seed.owner(world))
        report = await _get(world, await seed.officer(world), period="2026-S1")
        # 5 open, 3 triaged into a case, 2 forwarded, 1 closed with a reason.
        assert (
            report["hotline_received"],
            report["hotline_resolved"],
            report["hotline_forwarded"],
            report["hotline_open"],
        ) == (11, 4, 2, 5)
        assert _parts(report, "hotline_outcome") == {
            "open": 5,
            "case_opened": 3,
            "forwarded": 2,
            "closed": 1,
        }

    async def test_every_breakdown_adds_up_to_its_total(self, world: World) -> None:
        await _province(world, await seed.owner(world, "40"))
        await _province(world, await seed.owner(world, "37"))
        report = await _get(world, await seed.officer(world, None), period="2026")
        assert report["scope"] == "national"
        assert _parts(report, "province") == {"37": 13, "40": 13}
        for breakdown in report["breakdowns"]:
            parts = breakdown["parts"]
            assert sum(p["count"] for p in parts) == breakdown["total"], breakdown["name"]
            if breakdown["amount_vnd"] is not None:
                assert sum(p["amount_vnd"] for p in parts) == breakdown["amount_vnd"]
            exclusive = not breakdown["multi_valued"] and breakdown["name"] not in (
                "supports",
                "referrals",
                "hotline_outcome",
                "crime_reports_resolved",
                "cases_tried",
            )
            if exclusive:
                assert breakdown["total"] == report["persons_received"], breakdown["name"]
        assert _parts(report, "hotline_outcome") and report["hotline_received"] == 22

    async def test_an_agency_admin_appoints_the_reporting_officer(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN, await world.agency("social_affairs", "40"))
        body = {
            "username": "syt40.baocao",
            "password": "a long enough passphrase",
            "full_name": "Cán Bộ Thử",
            "role": "reporting_officer",
        }
        response = await world.client.post("/api/v1/users", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        assert response.json()["role"] == "reporting_officer"
