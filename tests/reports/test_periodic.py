"""`GET /api/v1/reports/periodic`: the province's six-monthly or annual return, exact,
every breakdown adding up to its total, as JSON, CSV or XLSX, of the caller's scope."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import Actor, World, assert_problem
from tests.reports import report_seed as seed

URL = "/api/v1/reports/periodic"


async def _get(world: World, who: Actor, **params: Any) -> dict[str, Any]:
    response = await world.client.get(URL, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _parts(report: dict[str, Any], name: str) -> dict[str, int]:
    [section] = [b for b in report["breakdowns"] if b["name"] == name]
    return {p["key"]: p["count"] for p in section["parts"]}


async def _province(world: World, owner: Actor) -> None:
    """A varied half year in one province (all inside 2026-H1)."""
    women = await seed.cases(
        world,
        owner,
        6,
        victim_sex="female",
        victim_age_at_intake=15,
        destination_country="CN",
        exploitation_types=["sexual"],
        victim_ethnicity_group="minority",
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
    await seed.moved(world, women + men, "verifying")
    await seed.moved(world, women, "identified")
    await seed.services(world, owner, women, type="essential_needs", amount_vnd=150_000)
    await seed.services(world, owner, men[:2], type="medical", amount_vnd=1_000_000)
    await seed.hotline_reports(world, owner, 5, status="open")
    await seed.hotline_reports(world, owner, 3, status="case_opened")
    await seed.hotline_reports(world, owner, 2, status="forwarded")


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
        assert event["reason"] == "missing_permission:reports:read"

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"period": "2026-H3"},
            {"period": "2026-Q1"},
            {"period": "26"},
            {"period": "1066"},
            {"period": "2026", "format": "pdf"},
            {"period": "2026", "province_code": "x1"},
        ],
    )
    async def test_invalid_queries_are_422(self, world: World, query: dict[str, str]) -> None:
        analyst = await seed.analyst(world)
        assert_problem(await world.client.get(URL, params=query, headers=analyst.headers), 422)

    async def test_analyst_of_province_a_cannot_get_province_b(
        self, world: World, engine: AsyncEngine
    ) -> None:
        await _province(world, await seed.owner(world, "37"))
        analyst = await seed.analyst(world, "40")
        mark = await last_event_id(engine)
        response = await world.client.get(
            URL, params={"period": "2026", "province_code": "37"}, headers=analyst.headers
        )
        assert_problem(response, 403)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "report.periodic",
            "denied",
            "out_of_scope",
        )
        own = await _get(world, analyst, period="2026")
        assert (own["scope"], own["persons_received"], own["hotline_received"]) == ("40", 0, 0)

    async def test_the_return_of_a_half_year(self, world: World, engine: AsyncEngine) -> None:
        owner = await seed.owner(world)
        await _province(world, owner)
        await _province(world, await seed.owner(world, "37"))  # another province: not counted
        analyst = await seed.analyst(world)
        mark = await last_event_id(engine)
        report = await _get(world, analyst, period="2026-H1")
        assert (report["first_day"], report["last_day"]) == ("2026-01-01", "2026-06-30")
        assert (report["hotline_received"], report["hotline_resolved"]) == (10, 5)
        assert (
            report["persons_received"],
            report["persons_verified"],
            report["persons_identified"],
        ) == (13, 10, 6)
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
        assert _parts(report, "ethnicity_group") == {"kinh": 4, "minority": 6, "unknown": 3}
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
        assert _parts(report, "hotline_outcome")["case_opened"] == 3
        [event] = await events_after(engine, mark)
        assert (event["action"], event["resource_type"], event["resource_id"]) == (
            "report.periodic",
            "report",
            "periodic:40:2026-H1",
        )
        assert (event["outcome"], event["reason"], event["person_id"]) == (
            "success",
            "format:json",
            None,
        )

    async def test_every_breakdown_adds_up_to_its_total(self, world: World) -> None:
        await _province(world, await seed.owner(world, "40"))
        await _province(world, await seed.owner(world, "37"))
        report = await _get(world, await seed.analyst(world, None), period="2026")
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
        assert _parts(report, "hotline_outcome") and report["hotline_received"] == 20

    async def test_half_years_meet_at_midnight_vietnam_time(self, world: World) -> None:
        owner = await seed.owner(world)
        await seed.cases(world, owner, 2, received_at=datetime(2026, 6, 30, 16, 59, tzinfo=UTC))
        await seed.cases(world, owner, 3, received_at=datetime(2026, 6, 30, 17, 0, tzinfo=UTC))
        analyst = await seed.analyst(world)
        first = await _get(world, analyst, period="2026-H1")
        second = await _get(world, analyst, period="2026-H2")
        year = await _get(world, analyst, period="2026")
        assert (first["persons_received"], second["persons_received"]) == (2, 3)
        assert year["persons_received"] == 5

    async def test_csv_is_an_attachment_with_the_same_figures(
        self, world: World, engine: AsyncEngine
    ) -> None:
        await _province(world, await seed.owner(world))
        analyst = await seed.analyst(world)
        mark = await last_event_id(engine)
        response = await world.client.get(
            URL, params={"period": "2026-H1", "format": "csv"}, headers=analyst.headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["content-disposition"] == (
            'attachment; filename="report-40-2026-H1.csv"'
        )
        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == ["section", "key", "label", "count", "amount_vnd"]
        table = {(r[0], r[1]): r for r in rows[1:]}
        assert table[("headline", "persons_received")][3] == "13"
        assert table[("sex", "total")][3] == "13"
        assert table[("supports", "total")][4] == str(6 * 150_000 + 2 * 1_000_000)
        [event] = await events_after(engine, mark)
        assert event["reason"] == "format:csv"

    async def test_xlsx_is_a_workbook_with_the_same_figures(self, world: World) -> None:
        await _province(world, await seed.owner(world))
        analyst = await seed.analyst(world)
        response = await world.client.get(
            URL, params={"period": "2026", "format": "xlsx"}, headers=analyst.headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert 'filename="report-40-2026.xlsx"' in response.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(response.content)) as package:
            assert "xl/workbook.xml" in package.namelist()
            sheet = package.read("xl/worksheets/sheet1.xml").decode()
        assert '<t xml:space="preserve">persons_received</t>' in sheet
        # The persons_received row holds 13 in column D.
        row = re.search(r'<row r="(\d+)">(?:(?!</row>).)*persons_received.*?</row>', sheet)
        assert row and re.search(r'<c r="D\d+"><v>13</v></c>', row.group(0))
