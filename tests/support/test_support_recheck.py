"""The entitlement is checked again at approve and deliver, not only at request."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import Case
from app.models.support import SupportService
from app.security.permissions import Role
from tests.conftest import World, assert_problem
from tests.support.factories import MadeCase, make_case
from tests.support.helpers import add_rate, team
from tests.support.money_helpers import ask, provider, step

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")


async def _moved(world: World, case: MadeCase, status: str) -> None:
    await world.session.execute(update(Case).where(col(Case.id) == case.id).values(status=status))
    await world.session.commit()


async def _unchanged(session: AsyncSession, sid: str, status: str) -> None:
    row = await session.get(SupportService, uuid.UUID(sid))
    assert row is not None
    await session.refresh(row)
    assert row.status == status


@pytest.mark.parametrize("decided", ["not_identified", "closed"])
async def test_not_approved_once_the_person_is_no_longer_entitled(
    world: World, session: AsyncSession, decided: str
) -> None:
    # The finding: requested under verification, approved after a not_victim decision.
    worker, supervisor = await team(world)
    case = await make_case(world, worker, status="verifying")
    await add_rate(world, "psychological", 200_000, unit="session")
    sid = (await ask(world, worker, case, type="psychological", unit="session")).json()["id"]
    await _moved(world, case, decided)
    problem = assert_problem(await step(world, supervisor, case, sid, "approve"), 409)
    assert str(problem["type"]).endswith("support-not-due")
    assert problem["rule"] == "entitlement"
    assert f"status '{decided}'" in str(problem["detail"])
    await _unchanged(session, sid, "requested")
    # Withdrawing or refusing it still works.
    rejected = await step(world, supervisor, case, sid, "reject", {"reason": "Không phải nạn nhân"})
    assert rejected.status_code == 200, rejected.text


async def test_not_delivered_once_the_person_is_no_longer_entitled(
    world: World, session: AsyncSession
) -> None:
    worker, supervisor = await team(world)
    case = await make_case(world, worker, status="verifying")
    await add_rate(world, "essential_needs", 60_000)
    sid = (await ask(world, worker, case, quantity=5)).json()["id"]
    assert (await step(world, supervisor, case, sid, "approve")).status_code == 200
    await _moved(world, case, "not_identified")
    problem = assert_problem(await step(world, supervisor, case, sid, "deliver"), 409)
    assert "no longer due" in str(problem["detail"])
    await _unchanged(session, sid, "approved")
    cancelled = await step(world, worker, case, sid, "cancel")
    assert cancelled.status_code == 200, cancelled.text


async def test_a_standing_that_no_longer_includes_the_support_409(world: World) -> None:
    # Under verification in Vietnam a person gets a to g; back abroad only a to d.
    worker, supervisor = await team(world)
    case = await make_case(world, worker, status="verifying")
    await add_rate(world, "psychological", 200_000, unit="session")
    sid = (await ask(world, worker, case, type="psychological", unit="session")).json()["id"]
    await world.session.execute(
        update(Case).where(col(Case.id) == case.id).values(currently_abroad=True)
    )
    await world.session.commit()
    problem = assert_problem(await step(world, supervisor, case, sid, "approve"), 409)
    assert "under_verification_abroad" in str(problem["detail"])


async def test_identified_later_is_still_entitled(world: World) -> None:
    worker, supervisor = await team(world)
    colleague = await world.user(Role.CASE_WORKER, worker.agency)
    case = await make_case(world, worker, status="verifying")
    await add_rate(world, "essential_needs", 60_000)
    sid = (await ask(world, worker, case, quantity=5)).json()["id"]
    await _moved(world, case, "identified")
    assert (await step(world, supervisor, case, sid, "approve")).status_code == 200
    assert (await step(world, colleague, case, sid, "deliver")).status_code == 200


async def test_a_providers_delivery_is_rechecked_too(world: World) -> None:
    lead, _ = await team(world)
    case = await make_case(world, lead)
    await add_rate(world, "medical", 150_000, unit="session")
    hospital = await provider(world, lead, case, "health", ["medical"])
    made = await ask(world, hospital.worker, case, type="medical", unit="session")
    assert made.json()["status"] == "approved", made.text
    await _moved(world, case, "not_identified")
    delivered = await step(world, hospital.supervisor, case, made.json()["id"], "deliver")
    assert str(assert_problem(delivered, 409)["type"]).endswith("support-not-due")
