"""POST /api/v1/cases/{id}/support-services/{sid}/approve|reject|deliver|cancel."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import CaseTimelineEntry
from app.models.support import SupportService
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import Actor, World, assert_problem
from tests.support.factories import MadeCase, make_case
from tests.support.helpers import add_rate, team


async def requested(world: World, worker: Actor) -> tuple[MadeCase, str]:
    """A case of the worker's agency with one requested essential-needs service."""
    case = await make_case(world, worker)
    await add_rate(world, "essential_needs", 60_000)
    response = await world.client.post(
        f"/api/v1/cases/{case.id}/support-services",
        json={
            "type": "essential_needs",
            "quantity": 3,
            "unit": "day",
            "service_date": "2026-05-04",
        },
        headers=worker.headers,
    )
    assert response.status_code == 201, response.text
    return case, response.json()["id"]


def step_url(case: MadeCase | uuid.UUID, service_id: str | uuid.UUID, action: str) -> str:
    case_id = case.id if isinstance(case, MadeCase) else case
    return f"/api/v1/cases/{case_id}/support-services/{service_id}/{action}"


async def step(
    world: World, actor: Actor, case: MadeCase, sid: str, action: str, body: Any = None
) -> Any:
    return await world.client.post(step_url(case, sid, action), json=body, headers=actor.headers)


class TestApprove:
    async def test_anonymous_401(self, world: World) -> None:
        response = await world.client.post(step_url(uuid.uuid4(), uuid.uuid4(), "approve"))
        assert_problem(response, 401)

    async def test_supervisor_approves(
        self, world: World, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        worker, supervisor = await team(world)
        case, sid = await requested(world, worker)
        mark = await last_event_id(engine)
        response = await step(world, supervisor, case, sid, "approve")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["decided_by"], body["version"]) == (
            "approved",
            str(supervisor.id),
            2,
        )
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["resource_id"]) == (
            "support_service.approve",
            "success",
            sid,
        )
        kinds = (
            await session.execute(
                select(CaseTimelineEntry.kind)  # type: ignore[call-overload]
                .where(CaseTimelineEntry.case_id == case.id)
                .order_by(CaseTimelineEntry.occurred_at)
            )
        ).scalars()
        assert list(kinds) == ["support_requested", "support_approved"]

    async def test_case_worker_403(self, world: World, engine: AsyncEngine) -> None:
        worker, _ = await team(world)
        case, sid = await requested(world, worker)
        mark = await last_event_id(engine)
        assert_problem(await step(world, worker, case, sid, "approve"), 403)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "support_service.approve",
            "denied",
            "missing_permission:cases:approve",
        )

    async def test_other_agency_404(self, world: World, engine: AsyncEngine) -> None:
        worker, _ = await team(world)
        case, sid = await requested(world, worker)
        stranger = await world.user(Role.SUPERVISOR)
        mark = await last_event_id(engine)
        assert_problem(await step(world, stranger, case, sid, "approve"), 404)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["reason"], event["resource_id"]) == (
            "support_service.approve",
            "out_of_reach",
            str(case.id),
        )

    async def test_unknown_service_404(self, world: World) -> None:
        worker, supervisor = await team(world)
        case, _ = await requested(world, worker)
        assert_problem(await step(world, supervisor, case, str(uuid.uuid4()), "approve"), 404)

    async def test_twice_409(self, world: World) -> None:
        worker, supervisor = await team(world)
        case, sid = await requested(world, worker)
        assert (await step(world, supervisor, case, sid, "approve")).status_code == 200
        problem = assert_problem(await step(world, supervisor, case, sid, "approve"), 409)
        assert problem["allowed_from"] == ["requested"]

    async def test_unknown_field_422(self, world: World) -> None:
        worker, supervisor = await team(world)
        case, sid = await requested(world, worker)
        response = await step(world, supervisor, case, sid, "approve", {"comment": "ok"})
        assert_problem(response, 422)


class TestReject:
    async def test_anonymous_401(self, world: World) -> None:
        response = await world.client.post(
            step_url(uuid.uuid4(), uuid.uuid4(), "reject"), json={"reason": "x"}
        )
        assert_problem(response, 401)

    async def test_needs_a_reason_422(self, world: World) -> None:
        worker, supervisor = await team(world)
        case, sid = await requested(world, worker)
        assert_problem(await step(world, supervisor, case, sid, "reject", {}), 422)

    async def test_supervisor_rejects_reason_encrypted(
        self, world: World, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        worker, supervisor = await team(world)
        case, sid = await requested(world, worker)
        reason = "Đã được cơ sở khác hỗ trợ cùng kỳ"
        mark = await last_event_id(engine)
        response = await step(world, supervisor, case, sid, "reject", {"reason": reason})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "rejected"
        assert reason not in response.text
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["fields"]) == (
            "support_service.reject",
            ["decision_reason", "status"],
        )
        row = await session.get(SupportService, uuid.UUID(sid))
        assert row is not None and row.decision_reason is not None
        assert reason.encode() not in row.decision_reason

    async def test_other_agency_404(self, world: World) -> None:
        worker, _ = await team(world)
        case, sid = await requested(world, worker)
        stranger = await world.user(Role.SUPERVISOR)
        response = await step(world, stranger, case, sid, "reject", {"reason": "không"})
        assert_problem(response, 404)

    async def test_case_worker_403(self, world: World) -> None:
        worker, _ = await team(world)
        case, sid = await requested(world, worker)
        assert_problem(await step(world, worker, case, sid, "reject", {"reason": "không"}), 403)


class TestDeliver:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(
            await world.client.post(step_url(uuid.uuid4(), uuid.uuid4(), "deliver")), 401
        )

    async def test_before_approval_409(self, world: World) -> None:
        worker, supervisor = await team(world)
        case, sid = await requested(world, worker)
        assert_problem(await step(world, supervisor, case, sid, "deliver"), 409)

    async def test_after_approval(self, world: World, engine: AsyncEngine) -> None:
        worker, supervisor = await team(world)
        colleague = await world.user(Role.CASE_WORKER, worker.agency)
        case, sid = await requested(world, worker)
        assert (await step(world, supervisor, case, sid, "approve")).status_code == 200
        mark = await last_event_id(engine)
        response = await step(world, colleague, case, sid, "deliver")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "delivered"
        assert response.json()["delivered_at"]
        (event,) = await events_after(engine, mark)
        assert event["action"] == "support_service.deliver"
        assert_problem(await step(world, colleague, case, sid, "deliver"), 409)
        assert_problem(await step(world, worker, case, sid, "cancel"), 409)

    async def test_other_agency_404(self, world: World) -> None:
        worker, _ = await team(world)
        case, sid = await requested(world, worker)
        stranger = await world.user(Role.CASE_WORKER)
        assert_problem(await step(world, stranger, case, sid, "deliver"), 404)


class TestCancel:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.post(step_url(uuid.uuid4(), uuid.uuid4(), "cancel")), 401)

    @pytest.mark.parametrize("approve_first", [False, True])
    async def test_cancel(self, world: World, engine: AsyncEngine, approve_first: bool) -> None:
        worker, supervisor = await team(world)
        case, sid = await requested(world, worker)
        if approve_first:
            assert (await step(world, supervisor, case, sid, "approve")).status_code == 200
        mark = await last_event_id(engine)
        response = await step(world, worker, case, sid, "cancel", {"reason": "Nạn nhân từ chối"})
        assert response.status_code == 200, response.text
        assert (response.json()["status"], bool(response.json()["cancelled_at"])) == (
            "cancelled",
            True,
        )
        (event,) = await events_after(engine, mark)
        assert event["action"] == "support_service.cancel"
        assert_problem(await step(world, supervisor, case, sid, "approve"), 409)

    async def test_other_agency_404(self, world: World) -> None:
        worker, _ = await team(world)
        case, sid = await requested(world, worker)
        stranger = await world.user(Role.CASE_WORKER)
        assert_problem(await step(world, stranger, case, sid, "cancel"), 404)


class TestConcurrentApproval:
    async def test_only_one_of_two_simultaneous_approvals_wins(self, world: World) -> None:
        worker, supervisor = await team(world)
        other_supervisor = await world.user(Role.SUPERVISOR, worker.agency)
        case, sid = await requested(world, worker)
        first, second = await asyncio.gather(
            step(world, supervisor, case, sid, "approve"),
            step(world, other_supervisor, case, sid, "approve"),
        )
        assert sorted((first.status_code, second.status_code)) == [200, 409]
