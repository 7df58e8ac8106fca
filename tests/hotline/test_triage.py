"""`POST /api/v1/hotline-reports/{id}/triage`: forward, close, open a case."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import Actor, World, assert_problem
from tests.hotline.helpers import BASE, forward, operator, record_report

PURPOSE = {"X-Purpose-Of-Use": "case_management"}


async def triage(
    world: World,
    actor: Actor | None,
    report_id: uuid.UUID,
    *,
    if_match: str | None = '"1"',
    **body: Any,
) -> Any:
    headers = dict(actor.headers) if actor else {}
    if if_match is not None:
        headers["If-Match"] = if_match
    return await world.client.post(f"{BASE}/{report_id}/triage", json=body, headers=headers)


class TestTriage:
    async def test_anonymous_is_401(self, world: World) -> None:
        assert_problem(await triage(world, None, uuid.uuid4(), action="close", reason="x"), 401)

    async def test_other_agency_gets_404_and_a_denied_row(
        self, world: World, engine: AsyncEngine
    ) -> None:
        actor = await operator(world)
        report_id, _ = await record_report(world, actor)
        stranger = await operator(world)
        mark = await last_event_id(engine)
        response = await triage(world, stranger, report_id, action="close", reason="trùng")
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("hotline_report.triage", "denied", "out_of_reach")
        ]

    async def test_forward_records_the_target(self, world: World, engine: AsyncEngine) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        report_id, _ = await record_report(world, actor)
        mark = await last_event_id(engine)
        response = await triage(
            world, actor, report_id, action="forward", to_agency_id=str(police.id)
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "forwarded"
        assert response.json()["forwarded_to_agency_id"] == str(police.id)
        assert response.json()["case_id"] is None
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("hotline_report.triage", "success", "forward")
        ]
        shown = await world.client.get(f"{BASE}/{report_id}", headers=actor.headers)
        assert shown.json()["triaged_by"] == str(actor.id)

    async def test_close_seals_the_reason(self, world: World, engine: AsyncEngine) -> None:
        actor = await operator(world)
        report_id, _ = await record_report(world, actor)
        reason = "Người gọi xác nhận đã tìm thấy em gái tại nhà bạn"
        response = await triage(world, actor, report_id, action="close", reason=reason)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "closed"
        async with engine.connect() as conn:
            stored = (
                await conn.execute(text("SELECT close_reason FROM hotline_reports"))
            ).scalar_one()
        assert stored is not None and reason.encode() not in bytes(stored)
        shown = await world.client.get(
            f"{BASE}/{report_id}?reveal=identity", headers={**actor.headers, **PURPOSE}
        )
        assert shown.json()["close_reason"] == reason

    async def test_triage_twice_is_409_with_allowed(self, world: World) -> None:
        actor = await operator(world)
        report_id, _ = await record_report(world, actor)
        assert (
            await triage(world, actor, report_id, action="close", reason="x")
        ).status_code == 200
        problem = assert_problem(
            await triage(world, actor, report_id, action="close", reason="x"), 409
        )
        assert problem["allowed"] == []

    async def test_owner_cannot_triage_after_forwarding(self, world: World) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        report_id, _ = await record_report(world, actor)
        await forward(world, actor, report_id, police.id)
        response = await triage(
            world, actor, report_id, action="forward", to_agency_id=str(police.id)
        )
        assert_problem(response, 409)

    async def test_forward_target_opens_a_case(self, world: World, engine: AsyncEngine) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        worker = await world.user(Role.CASE_WORKER, police)
        report_id, body = await record_report(world, actor)
        await forward(world, actor, report_id, police.id)
        mark = await last_event_id(engine)
        response = await triage(world, worker, report_id, action="open_case", if_match='"2"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"3"'
        assert response.json()["status"] == "case_opened"
        case_id = response.json()["case_id"]
        assert case_id
        events = await events_after(engine, mark)
        assert ("case.create", "success") in [(e["action"], e["outcome"]) for e in events]
        assert [e["reason"] for e in events if e["action"] == "hotline_report.triage"] == [
            "open_case"
        ]
        async with engine.connect() as conn:
            case = (
                await conn.execute(
                    text(
                        "SELECT intake_source, hotline_report_id, owner_agency_id, province_code"
                        " FROM cases WHERE id = :id"
                    ),
                    {"id": case_id},
                )
            ).one()
        assert tuple(case) == ("hotline", report_id, police.id, body["province_code"])
        again = await triage(world, worker, report_id, action="open_case", if_match='"3"')
        assert_problem(again, 409)

    async def test_operator_may_not_open_a_case(self, world: World, engine: AsyncEngine) -> None:
        actor = await operator(world)
        report_id, _ = await record_report(world, actor)
        mark = await last_event_id(engine)
        assert_problem(await triage(world, actor, report_id, action="open_case"), 403)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("hotline_report.triage", "denied", "missing_permission:cases:write")
        ]

    async def test_the_centre_may_not_open_a_case_itself(
        self, world: World, engine: AsyncEngine
    ) -> None:
        # The hotline records and forwards reports; it does not receive cases.
        actor = await operator(world)
        supervisor = await world.user(Role.SUPERVISOR, actor.agency)
        report_id, _ = await record_report(world, actor)
        mark = await last_event_id(engine)
        problem = assert_problem(
            await triage(world, supervisor, report_id, action="open_case"), 403
        )
        assert str(problem["type"]).endswith("agency-function-required")
        assert "'receive'" in str(problem["detail"])
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("hotline_report.triage", "denied", "missing_function:receive")
        ]
        shown = await world.client.get(f"{BASE}/{report_id}", headers=actor.headers)
        assert (shown.json()["status"], shown.json()["case_id"]) == ("open", None)

    async def test_an_owner_that_receives_opens_a_case_from_an_open_report(
        self, world: World
    ) -> None:
        police = await world.agency("police")
        actor = await world.user(Role.HOTLINE_OPERATOR, police)
        supervisor = await world.user(Role.SUPERVISOR, police)
        report_id, _ = await record_report(world, actor)
        response = await triage(world, supervisor, report_id, action="open_case")
        assert response.status_code == 200, response.text
        assert response.json()["case_id"]

    async def test_open_case_needs_a_named_victim(self, world: World) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        supervisor = await world.user(Role.SUPERVISOR, police)
        report_id, _ = await record_report(world, actor, suspected_victims=[])
        await forward(world, actor, report_id, police.id)
        assert_problem(
            await triage(world, supervisor, report_id, action="open_case", if_match='"2"'), 409
        )

    @pytest.mark.parametrize("kind", ["bank", "health", "legal_aid", "national", "hotline"])
    async def test_a_forward_target_must_receive_reports(self, world: World, kind: str) -> None:
        actor = await operator(world)
        target = await world.agency(kind)
        report_id, _ = await record_report(world, actor)
        response = await triage(
            world, actor, report_id, action="forward", to_agency_id=str(target.id)
        )
        problem = assert_problem(response, 422)
        assert "'receive'" in str(problem["errors"])

    async def test_invalid_triage_bodies_are_422(self, world: World) -> None:
        actor = await operator(world)
        report_id, _ = await record_report(world, actor)
        for body in (
            {"action": "forward"},
            {"action": "close"},
            {"action": "escalate"},
            {"action": "forward", "to_agency_id": str(uuid.uuid4())},
            {"action": "forward", "to_agency_id": str(actor.agency.id)},
            {"action": "close", "reason": "x", "to_agency_id": str(actor.agency.id)},
        ):
            assert_problem(await triage(world, actor, report_id, **body), 422)
        shown = await world.client.get(f"{BASE}/{report_id}", headers=actor.headers)
        assert shown.json()["status"] == "open"

    async def test_if_match_is_required_and_checked(self, world: World) -> None:
        actor = await operator(world)
        report_id, _ = await record_report(world, actor)
        shown = await world.client.get(f"{BASE}/{report_id}", headers=actor.headers)
        assert shown.headers["ETag"] == '"1"'
        missing = await triage(world, actor, report_id, if_match=None, action="close", reason="x")
        assert_problem(missing, 428)
        stale = await triage(world, actor, report_id, if_match='"7"', action="close", reason="x")
        assert_problem(stale, 412)
        assert stale.headers["ETag"] == '"1"'  # the current version

    async def test_forward_target_may_close(self, world: World) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        supervisor = await world.user(Role.SUPERVISOR, police)
        report_id, _ = await record_report(world, actor)
        await forward(world, actor, report_id, police.id)
        response = await triage(
            world, supervisor, report_id, if_match='"2"', action="close", reason="Không có căn cứ"
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "closed"
        assert response.json()["forwarded_to_agency_id"] == str(police.id)
