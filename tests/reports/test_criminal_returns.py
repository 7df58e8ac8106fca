"""The periodic return counts reports of crime resolved and criminal cases tried, by
when the proceedings reached those points, in the investigating agency's province."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from app.models import Agency, CriminalProceeding
from app.security.permissions import Role
from tests.case_records.factories import make_case
from tests.conftest import Actor, World
from tests.reports import report_seed as seed

URL = "/api/v1/reports/periodic"
FEB = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
APRIL = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)
AUGUST = datetime(2026, 8, 5, 3, 0, tzinfo=UTC)


async def _proceedings(
    world: World, owner: Actor, agency: Agency, rows: list[dict[str, Any]]
) -> None:
    """One proceeding per row, each on a new case of `owner`'s agency."""
    case_ids = await seed.cases(world, owner, len(rows))
    values = [
        {
            "id": uuid.uuid4(),
            "case_id": case_id,
            "investigating_agency_id": agency.id,
            "reference": b"sealed",  # stands for ciphertext; reports never read it
            "outcome": None,
            "opened_at": seed.MARCH,
            "stage_changed_at": seed.MARCH,
            "resolved_at": None,
            "tried_at": None,
            "agency_id": agency.id,
            "recorded_by": owner.id,
            "version": 1,
            "updated_at": seed.MARCH,
            **row,
        }
        for case_id, row in zip(case_ids, rows, strict=True)
    ]
    await world.session.execute(insert(CriminalProceeding), values)
    await world.session.commit()


def _section(report: dict[str, Any], name: str) -> tuple[int, dict[str, int]]:
    [section] = [b for b in report["breakdowns"] if b["name"] == name]
    return section["total"], {p["key"]: p["count"] for p in section["parts"]}


async def _report(world: World, who: Actor, period: str) -> dict[str, Any]:
    response = await world.client.get(URL, params={"period": period}, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_resolved_and_tried_by_when_they_were_reached(world: World) -> None:
    owner = await seed.owner(world, "40")
    police = await world.agency("police", "40")
    ministry = await world.agency("national", None)
    elsewhere = await world.agency("police", "37")
    await _proceedings(
        world,
        owner,
        police,
        [
            {"stage": "prosecuted", "resolved_at": FEB},
            {"stage": "tried", "resolved_at": FEB, "tried_at": APRIL},
            {"stage": "closed", "outcome": "convicted", "resolved_at": FEB, "tried_at": APRIL},
            {"stage": "closed", "outcome": "acquitted", "resolved_at": APRIL, "tried_at": APRIL},
            {"stage": "closed", "outcome": "dismissed", "resolved_at": APRIL},
            # Resolved in the second half year; tried in it.
            {"stage": "tried", "resolved_at": FEB, "tried_at": AUGUST},
            {"stage": "prosecuted", "resolved_at": AUGUST},
            # Not resolved: still investigated, or suspended.
            {"stage": "investigating"},
            {"stage": "closed", "outcome": "suspended"},
        ],
    )
    # The ministry's police investigating: counts for the province that received.
    await _proceedings(world, owner, ministry, [{"stage": "prosecuted", "resolved_at": FEB}])
    # Another province's police: counts there.
    await _proceedings(world, owner, elsewhere, [{"stage": "prosecuted", "resolved_at": FEB}])
    officer = await seed.officer(world, "40")
    first = await _report(world, officer, "2026-H1")
    assert _section(first, "crime_reports_resolved") == (
        7,
        {"prosecuted": 1 + 1, "tried": 2, "closed": 3},
    )
    assert _section(first, "cases_tried") == (
        3,
        {"convicted": 1, "acquitted": 1, "awaiting": 1, "other": 0},
    )
    second = await _report(world, officer, "2026-H2")
    assert _section(second, "crime_reports_resolved") == (
        1,
        {"prosecuted": 1, "tried": 0, "closed": 0},
    )
    assert _section(second, "cases_tried")[0] == 1
    other = await _report(world, await seed.officer(world, "37"), "2026")
    assert _section(other, "crime_reports_resolved")[0] == 1
    nation = await _report(world, await seed.officer(world, None), "2026")
    assert _section(nation, "crime_reports_resolved")[0] == 7 + 1 + 1
    assert _section(nation, "cases_tried")[0] == 4


async def test_recorded_proceedings_reach_the_return(world: World) -> None:
    """End to end: the stamps the routes write are what the return counts."""
    police = await world.agency("police", "40")
    officer = await world.user(Role.CASE_WORKER, police)
    case = await make_case(world, officer)
    path = f"/api/v1/cases/{case.id}/criminal-proceedings"
    body = {"reference": "Vụ án số 3/2026", "stage": "investigating"}
    created = await world.client.post(path, json=body, headers=officer.headers)
    assert created.status_code == 201, created.text
    reporter = await seed.officer(world, "40")
    # Today, as explicit days (the named year of the plans' calendar ends 15 December).
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    period = f"{today}..{today}"
    assert _section(await _report(world, reporter, period), "crime_reports_resolved")[0] == 0
    moved = await world.client.patch(
        f"{path}/{created.json()['id']}",
        json={"stage": "closed", "outcome": "convicted"},
        headers={**officer.headers, "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    report = await _report(world, reporter, period)
    assert _section(report, "crime_reports_resolved") == (
        1,
        {"prosecuted": 0, "tried": 0, "closed": 1},
    )
    assert _section(report, "cases_tried")[1]["convicted"] == 1
