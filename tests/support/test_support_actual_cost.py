"""Actual-cost supports (medical, interpretation, legal support, travel tickets) where
no rate is in force: the amount is a receipt's, approved by a supervisor; where a rate
is in force, the rate applies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models.support import SupportService
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.support.factories import make_case
from tests.support.helpers import add_rate, team
from tests.support.money_helpers import ask, provider, receipt, step, url

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")

ACTUAL_COST = ["medical", "interpretation", "legal_support", "travel"]


@pytest.mark.parametrize("type_", ACTUAL_COST)
async def test_a_receipt_gives_the_amount_and_waits_for_a_supervisor(
    world: World, type_: str
) -> None:
    worker, supervisor = await team(world)
    case = await make_case(world, worker)
    made = await ask(world, worker, case, type=type_, unit="trip", receipt=receipt())
    assert made.status_code == 201, made.text
    shown = made.json()
    assert (shown["status"], shown["amount_vnd"], shown["actual_cost"]) == (
        "requested",
        1_250_000,
        True,
    )
    assert (shown["rate_id"], shown["amount_overridden"]) == (None, False)
    # The answer to a create shows the receipt as written.
    assert shown["receipt"] == {
        **receipt(),
        "amount_vnd": 1_250_000,
    }
    approved = await step(world, supervisor, case, shown["id"], "approve")
    assert approved.status_code == 200, approved.text


async def test_the_receipt_number_and_issuer_are_encrypted_and_listed(
    world: World, engine: AsyncEngine, session: AsyncSession
) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    paper = receipt(number="BV-77-000981", issuer="Phòng khám Nguyễn Thị Test (thử)")
    made = await ask(world, worker, case, type="medical", unit="lump_sum", receipt=paper)
    assert made.status_code == 201, made.text
    row = await session.get(SupportService, uuid.UUID(made.json()["id"]))
    assert row is not None and row.receipt_number and row.receipt_issuer
    assert paper["number"].encode() not in row.receipt_number
    assert paper["issuer"].encode() not in row.receipt_issuer
    mark = await last_event_id(engine)
    listed = await world.client.get(url(case), headers=worker.headers)
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["receipt"] == {**paper, "amount_vnd": 1_250_000}
    (event,) = await events_after(engine, mark)
    assert (event["action"], event["fields"], event["person_id"]) == (
        "support_service.list",
        ["receipt"],
        case.victim_id,
    )


async def test_where_a_rate_is_in_force_the_rate_applies(world: World) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await add_rate(world, "travel", 100_000, unit="trip")
    with_receipt = await ask(world, worker, case, type="travel", unit="trip", receipt=receipt())
    problem = assert_problem(with_receipt, 422)
    assert "the rate applies" in str(problem["detail"])
    by_rate = await ask(world, worker, case, type="travel", unit="trip", quantity=2)
    assert by_rate.status_code == 201, by_rate.text
    assert (by_rate.json()["amount_vnd"], by_rate.json()["actual_cost"]) == (200_000, False)
    # Another unit has no rate: tickets by the trip, meals on the way by the day.
    tickets = await ask(world, worker, case, type="travel", unit="lump_sum", receipt=receipt())
    assert tickets.status_code == 201, tickets.text


@pytest.mark.parametrize("type_", ["essential_needs", "psychological", "loan", "schooling"])
async def test_other_types_take_no_receipt(world: World, type_: str) -> None:
    kind = "bank" if type_ == "loan" else "social_affairs"
    worker, _ = await team(world, kind)
    case = await make_case(world, worker)
    made = await ask(world, worker, case, type=type_, receipt=receipt())
    problem = assert_problem(made, 422)
    assert "actual cost" in str(problem["detail"])


async def test_without_a_rate_or_a_receipt_422_says_what_to_give(world: World) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    problem = assert_problem(await ask(world, worker, case, type="medical"), 422)
    assert "receipt" in str(problem["detail"])


@pytest.mark.parametrize(
    "paper",
    [
        receipt(number=""),
        receipt(issuer=""),
        receipt(amount_vnd=0),
        receipt(date="soon"),
        {k: v for k, v in receipt().items() if k != "number"},
        receipt(stamp="đỏ"),
    ],
)
async def test_invalid_receipt_422(world: World, paper: dict[str, Any]) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    assert_problem(await ask(world, worker, case, type="medical", receipt=paper), 422)


async def test_a_receipt_from_the_future_422(world: World) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    later = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    made = await ask(world, worker, case, type="medical", receipt=receipt(date=later))
    assert_problem(made, 422)


async def test_a_receipt_and_an_override_together_422(world: World) -> None:
    _, supervisor = await team(world)
    case = await make_case(world, supervisor)
    made = await ask(
        world,
        supervisor,
        case,
        type="medical",
        receipt=receipt(),
        amount_vnd=1,
        override_reason="Giá thực tế",
    )
    assert_problem(made, 422)


async def test_a_providers_receipt_waits_for_the_leads_supervisor(world: World) -> None:
    # The lead is the police (no function to give medical care): approving the
    # hospital's receipt needs none; the hospital cannot approve it; another of the
    # hospital's staff delivers it.
    police = await world.agency("police", "40")
    lead = await world.user(Role.SUPERVISOR, police)
    approver = await world.user(Role.SUPERVISOR, police)
    case = await make_case(world, lead)
    hospital = await provider(world, lead, case, "health", ["medical"])
    made = await ask(world, hospital.worker, case, type="medical", receipt=receipt())
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "requested"
    sid = made.json()["id"]
    assert_problem(await step(world, hospital.supervisor, case, sid, "approve"), 403)
    approved = await step(world, approver, case, sid, "approve")
    assert approved.status_code == 200, approved.text
    delivered = await step(world, hospital.supervisor, case, sid, "deliver")
    assert delivered.status_code == 200, delivered.text


async def test_a_providers_service_at_the_rate_is_still_approved_by_the_referral(
    world: World,
) -> None:
    lead, _ = await team(world)
    case = await make_case(world, lead)
    await add_rate(world, "medical", 150_000, unit="session")
    hospital = await provider(world, lead, case, "health", ["medical"])
    made = await ask(world, hospital.worker, case, type="medical", unit="session")
    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["amount_vnd"]) == ("approved", 150_000)
