"""`GET /api/v1/reports/summary`: counts of the caller's scope, small cells and
their complements suppressed, audited, nothing that identifies anyone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import Actor, World, assert_problem
from tests.reports import report_seed as seed

URL = "/api/v1/reports/summary"
HIDDEN = "<11"


async def _get(world: World, who: Actor, **params: Any) -> dict[str, Any]:
    response = await world.client.get(URL, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _cell(report: dict[str, Any], **group: str) -> dict[str, Any]:
    figures = report["cells"] + report["margins"] + [report["total"]]
    [figure] = [f for f in figures if f["group"] == group]
    return figure


def _assert_unrecoverable(report: dict[str, Any]) -> None:
    """No line with a published total hides exactly one figure (subtraction would
    give it away)."""
    dims = report["group_by"]
    cells, margins, total = report["cells"], report["margins"], report["total"]
    lines = []
    if len(dims) == 2:
        for dim in dims:
            for margin in (m for m in margins if dim in m["group"]):
                value = margin["group"][dim]
                lines.append((margin, [c for c in cells if c["group"][dim] == value]))
            lines.append((total, [m for m in margins if dim in m["group"]]))
    else:
        lines.append((total, cells))
    for head, parts in lines:
        hidden = [p for p in parts if p["suppressed"]]
        if not head["suppressed"]:
            assert len(hidden) != 1, (head, hidden)


class TestSummary:
    async def test_anonymous_is_401(self, world: World) -> None:
        assert_problem(await world.client.get(URL), 401)

    @pytest.mark.parametrize("role", [Role.CASE_WORKER, Role.SYSTEM_ADMIN])
    async def test_roles_without_reports_read_get_404(
        self, world: World, engine: AsyncEngine, role: Role
    ) -> None:
        kind = "national" if role is Role.SYSTEM_ADMIN else "social_affairs"
        caller = await world.user(role, await world.agency(kind))
        mark = await last_event_id(engine)
        assert_problem(await world.client.get(URL, headers=caller.headers), 404)
        [event] = await events_after(engine, mark)
        assert event["reason"] == "missing_permission:reports:read"

    @pytest.mark.parametrize(
        "query",
        [
            {"group_by": "colour"},
            {"group_by": "sex,age_band,status"},
            {"group_by": "sex,sex"},
            {"group_by": ["sex", "age_band", "province"]},
            {"from": "2026-07-01", "to": "2026-06-30"},
            {"from": "yesterday"},
            {"province_code": "4"},
            {"age_bands": "decades"},
        ],
    )
    async def test_invalid_queries_are_422(self, world: World, query: dict[str, Any]) -> None:
        analyst = await seed.analyst(world)
        assert_problem(await world.client.get(URL, params=query, headers=analyst.headers), 422)

    async def test_analyst_of_province_a_cannot_get_province_b(
        self, world: World, engine: AsyncEngine
    ) -> None:
        await seed.cases(world, await seed.owner(world, "37"), 30)
        analyst = await seed.analyst(world, "40")
        mark = await last_event_id(engine)
        response = await world.client.get(
            URL, params={"province_code": "37", "group_by": "sex"}, headers=analyst.headers
        )
        assert_problem(response, 403)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "report.summary",
            "denied",
            "out_of_scope",
        )
        # Without a province, the same analyst gets their own province, not the other.
        report = await _get(world, analyst, group_by="sex")
        assert (report["scope"], report["total"]["persons"]) == ("40", 0)

    async def test_national_analyst_sees_any_province_and_the_country(self, world: World) -> None:
        await seed.cases(world, await seed.owner(world, "40"), 30)
        await seed.cases(world, await seed.owner(world, "37"), 12)
        analyst = await seed.analyst(world, None)
        report = await _get(world, analyst, group_by="province")
        assert report["scope"] == "national"
        assert [(c["group"], c["persons"]) for c in report["cells"]] == [
            ({"province": "37"}, 12),
            ({"province": "40"}, 30),
        ]
        assert report["total"]["persons"] == 42
        only = await _get(world, analyst, group_by="province", province_code="37")
        assert only["total"]["persons"] == 12

    async def test_counts_with_small_cells_and_complement_suppressed(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner = await seed.owner(world)
        women = await seed.cases(world, owner, 30, victim_sex="female")
        await seed.cases(world, owner, 20, victim_sex="male")
        await seed.cases(world, owner, 4, victim_sex="other")
        await seed.services(world, owner, women[:10], amount_vnd=250_000)
        await seed.services(world, owner, women[:3], status="requested")  # not delivered
        analyst = await seed.analyst(world)
        mark = await last_event_id(engine)
        report = await _get(world, analyst, group_by="sex")
        assert report["suppression"] == "complementary" and report["threshold"] == 11
        assert report["multi_valued"] is False
        female = _cell(report, sex="female")
        assert (female["persons"], female["cases"], female["services"], female["amount_vnd"]) == (
            30,
            30,
            10,
            2_500_000,
        )
        # 4 is under 11; alone it could be had as 54 - 30 - 20, so the next smallest
        # (20 men) is suppressed with it.
        for sex in ("other", "male"):
            cell = _cell(report, sex=sex)
            assert cell["suppressed"] and cell["amount_vnd"] is None
            assert cell["persons"] == cell["cases"] == cell["services"] == HIDDEN
        assert report["total"]["persons"] == 54
        assert not any(c["group"].get("sex") == "unknown" for c in report["cells"])  # empty
        _assert_unrecoverable(report)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["resource_type"], event["outcome"]) == (
            "report.summary",
            "report",
            "success",
        )
        assert event["resource_id"] == "summary:40" and event["person_id"] is None

    async def test_two_dimensions_have_margins_and_no_recoverable_cell(self, world: World) -> None:
        owner = await seed.owner(world)
        for sex, age, count in (
            ("female", 12, 25),
            ("female", 30, 40),
            ("female", 5, 30),
            ("male", 12, 3),
            ("male", 30, 35),
            ("male", 5, 20),
        ):
            await seed.cases(world, owner, count, victim_sex=sex, victim_age_at_intake=age)
        analyst = await seed.analyst(world)
        report = await _get(world, analyst, group_by="sex,age_band")
        # 3 is primary; its row and column each hide their next smallest cell, and the
        # column of the 20 its own; the 18+ column stays whole.
        hidden = {
            (c["group"]["sex"], c["group"]["age_band"]) for c in report["cells"] if c["suppressed"]
        }
        assert hidden == {
            ("male", "10-14"),
            ("male", "0-9"),
            ("female", "10-14"),
            ("female", "0-9"),
        }
        assert _cell(report, sex="female", age_band="18+")["persons"] == 40
        assert _cell(report, sex="male", age_band="18+")["persons"] == 35
        assert _cell(report, sex="male")["persons"] == 58
        assert _cell(report, age_band="10-14")["persons"] == 28
        assert report["total"]["persons"] == 153
        _assert_unrecoverable(report)

    async def test_a_total_under_eleven_is_hidden_too(self, world: World) -> None:
        await seed.cases(world, await seed.owner(world), 6, victim_sex="female")
        report = await _get(world, await seed.analyst(world), group_by="sex")
        assert report["total"]["persons"] == HIDDEN
        assert report["cells"][0]["persons"] == HIDDEN

    async def test_persons_are_counted_per_reception(self, world: World) -> None:
        # Intake gives every case its own victim row, so persons equal cases.
        owner = await seed.owner(world)
        await seed.cases(world, owner, 23)
        report = await _get(world, await seed.analyst(world))
        assert (report["total"]["persons"], report["total"]["cases"]) == (23, 23)

    async def test_multi_valued_dimension_counts_a_person_in_several_cells(
        self, world: World
    ) -> None:
        owner = await seed.owner(world)
        await seed.cases(world, owner, 15, exploitation_types=["sexual", "forced_labour"])
        await seed.cases(world, owner, 20, exploitation_types=["sexual"])
        await seed.cases(world, owner, 12, exploitation_types=[])
        report = await _get(world, await seed.analyst(world), group_by="exploitation_type")
        assert report["multi_valued"] is True and report["notes"]
        assert _cell(report, exploitation_type="sexual")["persons"] == 35
        assert _cell(report, exploitation_type="forced_labour")["persons"] == 15
        assert _cell(report, exploitation_type="none")["persons"] == 12
        assert report["total"]["persons"] == 47  # not 62: each person once

    async def test_support_type_groups_services_and_amounts(self, world: World) -> None:
        owner = await seed.owner(world)
        helped = await seed.cases(world, owner, 12, victim_sex="female")
        await seed.cases(world, owner, 11, victim_sex="male")
        await seed.services(world, owner, helped, type="medical", amount_vnd=300_000)
        await seed.services(world, owner, helped, type="medical", amount_vnd=100_000)
        report = await _get(world, await seed.analyst(world), group_by="support_type,sex")
        medical = _cell(report, support_type="medical", sex="female")
        assert (medical["persons"], medical["services"], medical["amount_vnd"]) == (
            12,
            24,
            4_800_000,
        )
        assert _cell(report, support_type="none", sex="male")["persons"] == 11
        assert report["total"]["services"] == 24

    async def test_dates_are_vietnam_days_inclusive(self, world: World) -> None:
        owner = await seed.owner(world)
        # 23:59 on 30 June in Vietnam, then 00:00 on 1 July.
        await seed.cases(world, owner, 11, received_at=datetime(2026, 6, 30, 16, 59, tzinfo=UTC))
        await seed.cases(world, owner, 13, received_at=datetime(2026, 6, 30, 17, 0, tzinfo=UTC))
        analyst = await seed.analyst(world)
        june = await _get(world, analyst, **{"from": "2026-06-01", "to": "2026-06-30"})
        july = await _get(world, analyst, **{"from": "2026-07-01"})
        assert (june["total"]["persons"], july["total"]["persons"]) == (11, 13)
        assert (june["from_date"], june["to_date"]) == ("2026-06-01", "2026-06-30")
