"""One-off supports (the initial hardship allowance, the first year's health insurance)
once per person: a second request is 409 naming the first, under concurrency too."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.support import SupportService
from app.services.cases import support_checks
from tests.conftest import World, assert_problem
from tests.support.factories import make_case
from tests.support.helpers import add_rate, team
from tests.support.money_helpers import ask, step

ONE_OFF = ["initial_allowance", "health_insurance"]


def _lump(type_: str) -> dict[str, object]:
    return {"type": type_, "unit": "lump_sum", "quantity": 1}


@pytest.mark.parametrize("type_", ONE_OFF)
async def test_a_second_request_is_409_naming_the_first(world: World, type_: str) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await add_rate(world, type_, 3_000_000, unit="lump_sum")
    first = await ask(world, worker, case, **_lump(type_))
    assert first.status_code == 201, first.text
    second = await ask(world, worker, case, **_lump(type_))
    problem = assert_problem(second, 409)
    assert str(problem["type"]).endswith("one-off-support-given")
    assert problem["support_service_id"] == first.json()["id"]
    assert first.json()["id"] in str(problem["detail"])


async def test_still_once_after_approval_and_delivery(world: World) -> None:
    worker, supervisor = await team(world)
    case = await make_case(world, worker)
    await add_rate(world, "initial_allowance", 3_000_000, unit="lump_sum")
    first = (await ask(world, worker, case, **_lump("initial_allowance"))).json()["id"]
    assert (await step(world, supervisor, case, first, "approve")).status_code == 200
    assert (await step(world, supervisor, case, first, "deliver")).status_code == 200
    again = await ask(world, worker, case, **_lump("initial_allowance"))
    assert assert_problem(again, 409)["support_service_id"] == first


@pytest.mark.parametrize("end", ["cancel", "reject"])
async def test_a_cancelled_or_rejected_one_no_longer_counts(world: World, end: str) -> None:
    worker, supervisor = await team(world)
    case = await make_case(world, worker)
    await add_rate(world, "health_insurance", 1_200_000, unit="lump_sum")
    first = (await ask(world, worker, case, **_lump("health_insurance"))).json()["id"]
    ended = await step(world, supervisor, case, first, end, {"reason": "Nhập trùng (thử)"})
    assert ended.status_code == 200, ended.text
    again = await ask(world, worker, case, **_lump("health_insurance"))
    assert again.status_code == 201, again.text


async def test_other_types_and_other_persons_are_not_limited(world: World) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    other = await make_case(world, worker)
    await add_rate(world, "initial_allowance", 3_000_000, unit="lump_sum")
    await add_rate(world, "psychological", 200_000, unit="session")
    for target in (case, other):
        made = await ask(world, worker, target, **_lump("initial_allowance"))
        assert made.status_code == 201, made.text
    for _ in range(2):
        made = await ask(world, worker, case, type="psychological", unit="session")
        assert made.status_code == 201, made.text


async def test_two_simultaneous_requests_give_one(world: World) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await add_rate(world, "initial_allowance", 3_000_000, unit="lump_sum")
    answers = await asyncio.gather(
        *(ask(world, worker, case, **_lump("initial_allowance")) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409]


async def test_the_index_answers_when_the_check_is_passed_by(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two requests that both pass the check (as two transactions that do not see each
    # other would): the partial unique index refuses the second, answered as the same
    # 409 naming the first.
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await add_rate(world, "initial_allowance", 3_000_000, unit="lump_sum")
    first = await ask(world, worker, case, **_lump("initial_allowance"))
    assert first.status_code == 201, first.text

    async def passes(*_: object) -> None:
        return None

    monkeypatch.setattr(support_checks, "check_one_off", passes)
    second = await ask(world, worker, case, **_lump("initial_allowance"))
    assert assert_problem(second, 409)["support_service_id"] == first.json()["id"]


async def test_the_database_refuses_a_second_one(world: World, session: AsyncSession) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)

    def row(status: str) -> SupportService:
        return SupportService(
            case_id=case.id,
            person_id=case.victim_id,
            type="initial_allowance",
            unit="lump_sum",
            quantity=1,
            service_date=date(2026, 3, 2),
            amount_vnd=3_000_000,
            status=status,
            requested_by=worker.id,
        )

    session.add_all([row("cancelled"), row("delivered")])
    await session.commit()
    session.add(row("requested"))
    with pytest.raises(IntegrityError, match="ux_support_services_one_off"):
        await session.commit()
    await session.rollback()
