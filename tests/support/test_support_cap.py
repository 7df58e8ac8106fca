"""The 120-day essential-needs cap counts every time unit in days; other units carry no
essential needs; an extension comes only from the lead social-affairs agency or the
facility, with a reason (encrypted, audited)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models.support import SupportService
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.support.factories import make_case
from tests.support.helpers import add_rate, team
from tests.support.money_helpers import ask, provider

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")

REASON = "Nạn nhân chưa thể về địa phương (thử)"


async def _rates(world: World) -> None:
    for unit, amount in (("day", 60_000), ("week", 400_000), ("month", 1_800_000)):
        await add_rate(world, "essential_needs", amount, unit=unit)


@pytest.mark.parametrize("unit", ["session", "trip", "lump_sum", "person", "course"])
async def test_essential_needs_in_a_unit_without_days_422(world: World, unit: str) -> None:
    # The finding: 300 units of essential needs in `session` units passed the cap.
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await add_rate(world, "essential_needs", 60_000, unit=unit)
    problem = assert_problem(await ask(world, worker, case, unit=unit, quantity=300), 422)
    assert problem["errors"] == [
        {
            "field": "unit",
            "message": "essential needs are given by the day, week, month (counted in days "
            "against the 120-day cap)",
        }
    ]


async def test_weeks_months_and_days_all_count(world: World) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await _rates(world)
    for unit, quantity in (("month", 3), ("week", 4), ("day", 2)):  # 90 + 28 + 2 = 120
        made = await ask(world, worker, case, unit=unit, quantity=quantity)
        assert made.status_code == 201, made.text
    for unit in ("day", "week", "month"):
        problem = assert_problem(await ask(world, worker, case, unit=unit), 422)
        assert "120 days per person (120 already counted)" in str(problem["detail"])


async def test_a_week_is_seven_days(world: World) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await _rates(world)
    assert (await ask(world, worker, case, unit="week", quantity=17)).status_code == 201  # 119
    assert_problem(await ask(world, worker, case, unit="week"), 422)  # 126
    assert (await ask(world, worker, case, unit="day")).status_code == 201  # 120


async def test_rows_in_other_units_from_before_count_a_day_each(
    world: World, session: AsyncSession
) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await _rates(world)
    session.add(
        SupportService(
            case_id=case.id,
            person_id=case.victim_id,
            type="essential_needs",
            unit="session",
            quantity=115,
            service_date=date(2026, 1, 5),
            amount_vnd=6_900_000,
            status="delivered",
            requested_by=worker.id,
        )
    )
    await session.commit()
    assert (await ask(world, worker, case, unit="day", quantity=5)).status_code == 201
    assert_problem(await ask(world, worker, case, unit="day"), 422)


async def test_the_lead_social_affairs_supervisor_extends_with_a_reason(
    world: World, engine: AsyncEngine, session: AsyncSession
) -> None:
    worker, supervisor = await team(world)
    case = await make_case(world, worker)
    await _rates(world)
    assert (await ask(world, worker, case, unit="month", quantity=4)).status_code == 201
    problem = assert_problem(await ask(world, supervisor, case, unit="week"), 422)
    assert "extension_reason" in str(problem["detail"])
    mark = await last_event_id(engine)
    extended = await ask(world, supervisor, case, unit="week", extension_reason=REASON)
    assert extended.status_code == 201, extended.text
    assert extended.json()["cap_extended"] is True
    assert REASON not in extended.text
    (event,) = await events_after(engine, mark)
    assert (event["action"], event["reason"]) == ("support_service.create", "cap_extension:lead")
    assert "extension_reason" in event["fields"]
    row = await session.get(SupportService, uuid.UUID(extended.json()["id"]))
    assert row is not None and row.extension_reason is not None
    assert REASON.encode() not in row.extension_reason


async def test_a_case_worker_cannot_extend(world: World, engine: AsyncEngine) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await _rates(world)
    assert (await ask(world, worker, case, unit="month", quantity=4)).status_code == 201
    mark = await last_event_id(engine)
    refused = await ask(world, worker, case, unit="day", extension_reason=REASON)
    assert_problem(refused, 403)
    (event,) = await events_after(engine, mark)
    assert (event["outcome"], event["reason"]) == ("denied", "cap_extension_not_allowed")


async def test_a_commune_lead_cannot_extend(world: World, engine: AsyncEngine) -> None:
    # A commune gives first support: neither the social-affairs department nor a
    # facility that accommodates.
    worker, supervisor = await team(world, "commune")
    case = await make_case(world, worker)
    await _rates(world)
    assert (await ask(world, worker, case, unit="month", quantity=4)).status_code == 201
    refused = await ask(world, supervisor, case, unit="day", extension_reason=REASON)
    assert "facility" in str(assert_problem(refused, 403)["detail"])


async def test_an_ngo_lead_extends_as_the_facility_only_for_what_it_gives(
    world: World, engine: AsyncEngine
) -> None:
    worker, supervisor = await team(world, "ngo")
    case = await make_case(world, worker)
    await _rates(world)
    assert (await ask(world, worker, case, unit="month", quantity=4)).status_code == 201
    shelter = await world.agency("social_affairs", "40")
    elsewhere = await ask(
        world,
        supervisor,
        case,
        unit="day",
        provider_agency_id=str(shelter.id),
        extension_reason=REASON,
    )
    assert_problem(elsewhere, 403)
    mark = await last_event_id(engine)
    itself = await ask(world, supervisor, case, unit="day", extension_reason=REASON)
    assert itself.status_code == 201, itself.text
    (event,) = await events_after(engine, mark)
    assert event["reason"] == "cap_extension:facility"


async def test_the_facility_taking_part_extends_its_own_service(
    world: World, engine: AsyncEngine
) -> None:
    lead, _ = await team(world, "commune")
    case = await make_case(world, lead)
    await _rates(world)
    shelter = await provider(world, lead, case, "ngo", ["essential_needs"])
    made = await ask(world, shelter.worker, case, unit="month", quantity=4)
    assert made.status_code == 201, made.text
    assert_problem(await ask(world, shelter.worker, case, extension_reason=REASON), 403)
    mark = await last_event_id(engine)
    extended = await ask(world, shelter.supervisor, case, extension_reason=REASON)
    assert extended.status_code == 201, extended.text
    assert extended.json()["cap_extended"] is True
    (event,) = await events_after(engine, mark)
    assert event["reason"] == "cap_extension:facility"
    # The lead commune's supervisor may not.
    commune_supervisor = await world.user(Role.SUPERVISOR, lead.agency)
    refused = await ask(world, commune_supervisor, case, extension_reason=REASON)
    assert_problem(refused, 403)


async def test_an_extension_reason_on_another_type_422(world: World) -> None:
    _, supervisor = await team(world)
    case = await make_case(world, supervisor)
    await add_rate(world, "psychological", 200_000, unit="session")
    made = await ask(
        world, supervisor, case, type="psychological", unit="session", extension_reason=REASON
    )
    assert_problem(made, 422)
