"""Four eyes: whoever requested a support (set its amount by rate, receipt or override,
or extended its cap) may not approve, reject or deliver it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models.support import SupportService
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import Actor, World, assert_problem
from tests.support.factories import MadeCase, make_case
from tests.support.helpers import add_rate, team
from tests.support.money_helpers import ask, provider, receipt, step

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")

REASON = {"reason": "Không đủ điều kiện (thử)"}


async def _refused(
    world: World,
    engine: AsyncEngine,
    session: AsyncSession,
    actor: Actor,
    case: MadeCase,
    sid: str,
    action: str,
) -> None:
    """`actor` is refused `action` with 403 four-eyes-required, audited, and the
    service is unchanged."""
    before = await session.get(SupportService, uuid.UUID(sid))
    assert before is not None
    status = before.status
    mark = await last_event_id(engine)
    json = REASON if action == "reject" else None
    problem = assert_problem(await step(world, actor, case, sid, action, json), 403)
    assert str(problem["type"]).endswith("four-eyes-required")
    assert "another person" in str(problem["detail"])
    (event,) = await events_after(engine, mark)
    assert (event["action"], event["outcome"], event["reason"], event["resource_id"]) == (
        f"support_service.{action}",
        "denied",
        "four_eyes",
        sid,
    )
    await session.refresh(before)
    assert before.status == status


async def test_a_supervisor_does_not_approve_his_own_override(
    world: World, engine: AsyncEngine, session: AsyncSession
) -> None:
    # The finding: a supervisor overrode an amount and approved his own override.
    _, supervisor = await team(world)
    other = await world.user(Role.SUPERVISOR, supervisor.agency)
    case = await make_case(world, supervisor)
    made = await ask(
        world,
        supervisor,
        case,
        type="psychological",
        unit="session",
        amount_vnd=5_000_000,
        override_reason="Giá thực tế (thử)",
    )
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    for action in ("approve", "reject"):
        await _refused(world, engine, session, supervisor, case, sid, action)
    approved = await step(world, other, case, sid, "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["decided_by"] == str(other.id)
    await _refused(world, engine, session, supervisor, case, sid, "deliver")
    delivered = await step(world, other, case, sid, "deliver")
    assert delivered.status_code == 200, delivered.text


@pytest.mark.parametrize("action", ["approve", "reject", "deliver"])
async def test_the_requester_takes_no_decision_on_a_rate_priced_request(
    world: World, engine: AsyncEngine, session: AsyncSession, action: str
) -> None:
    _, supervisor = await team(world)
    case = await make_case(world, supervisor)
    await add_rate(world, "essential_needs", 60_000)
    sid = (await ask(world, supervisor, case, quantity=3)).json()["id"]
    if action == "deliver":
        other = await world.user(Role.SUPERVISOR, supervisor.agency)
        assert (await step(world, other, case, sid, "approve")).status_code == 200
    await _refused(world, engine, session, supervisor, case, sid, action)


async def test_the_requester_of_a_receipt_does_not_deliver_it(
    world: World, engine: AsyncEngine, session: AsyncSession
) -> None:
    worker, supervisor = await team(world)
    case = await make_case(world, worker)
    sid = (await ask(world, worker, case, type="medical", receipt=receipt())).json()["id"]
    assert (await step(world, supervisor, case, sid, "approve")).status_code == 200
    await _refused(world, engine, session, worker, case, sid, "deliver")
    delivered = await step(world, supervisor, case, sid, "deliver")
    assert delivered.status_code == 200, delivered.text


async def test_who_extended_the_cap_does_not_approve_it(
    world: World, engine: AsyncEngine, session: AsyncSession
) -> None:
    _, supervisor = await team(world)
    case = await make_case(world, supervisor)
    await add_rate(world, "essential_needs", 60_000)
    made = await ask(
        world, supervisor, case, quantity=130, extension_reason="Chưa thể tái hoà nhập (thử)"
    )
    assert made.status_code == 201, made.text
    assert made.json()["cap_extended"] is True
    await _refused(world, engine, session, supervisor, case, made.json()["id"], "approve")


async def test_a_provider_records_and_another_of_its_staff_delivers(
    world: World, engine: AsyncEngine, session: AsyncSession
) -> None:
    lead, _ = await team(world)
    case = await make_case(world, lead)
    await add_rate(world, "medical", 150_000, unit="session")
    hospital = await provider(world, lead, case, "health", ["medical"])
    made = await ask(world, hospital.worker, case, type="medical", unit="session")
    assert made.json()["status"] == "approved", made.text
    sid = made.json()["id"]
    await _refused(world, engine, session, hospital.worker, case, sid, "deliver")
    delivered = await step(world, hospital.supervisor, case, sid, "deliver")
    assert delivered.status_code == 200, delivered.text


async def test_the_requester_may_still_cancel_his_own_request(world: World) -> None:
    worker, _ = await team(world)
    case = await make_case(world, worker)
    await add_rate(world, "essential_needs", 60_000)
    sid = (await ask(world, worker, case)).json()["id"]
    cancelled = await step(world, worker, case, sid, "cancel")
    assert cancelled.status_code == 200, cancelled.text
