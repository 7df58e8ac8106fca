"""PATCH /api/v1/cases/{id}, POST /cases/{id}/transitions, GET /cases/{id}/timeline,
GET /cases/{id}/access-log."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.cases.intake_helpers import open_case
from tests.conftest import World, assert_problem, fake


def _if_match(headers: dict[str, str], version: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


class TestUpdateCase:
    async def test_anonymous_401(self, world: World) -> None:
        response = await world.client.patch(f"/api/v1/cases/{uuid.uuid4()}", json={})
        assert_problem(response, 401)

    async def test_if_match_required_and_checked(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker)
        url = f"/api/v1/cases/{case['id']}"
        body = {"currently_abroad": True}
        assert_problem(await world.client.patch(url, json=body, headers=worker.headers), 428)
        stale = _if_match(worker.headers, 7)
        refused = await world.client.patch(url, json=body, headers=stale)
        assert_problem(refused, 412)
        # The 412 names the current version, so the client can read again or retry.
        assert refused.headers["ETag"] == '"1"'
        # An If-Match that names no version is stale too, with the same answer.
        garbled = {**worker.headers, "If-Match": "not-a-version"}
        refused = await world.client.patch(url, json=body, headers=garbled)
        assert_problem(refused, 412)
        assert refused.headers["ETag"] == '"1"'

    async def test_happy_path(self, world: World, engine: AsyncEngine) -> None:
        worker = await world.user(Role.CASE_WORKER)
        colleague = await world.user(Role.CASE_WORKER, worker.agency, login=False)
        case = await open_case(world, worker)
        new_name = fake.name()
        mark = await last_event_id(engine)
        response = await world.client.patch(
            f"/api/v1/cases/{case['id']}",
            json={
                "assigned_to": str(colleague.id),
                "exploitation_types": ["sexual", "forced_marriage"],
                "victim": {"full_name": new_name, "phone": None},
            },
            headers=_if_match(worker.headers, 1),
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        data = response.json()
        assert data["assigned_to"] == str(colleague.id)
        assert data["exploitation_types"] == ["forced_marriage", "sexual"]
        assert data["victim"]["phone"] is None
        assert new_name not in response.text
        (event,) = await events_after(engine, mark)
        assert event["action"] == "case.update"
        assert set(event["fields"]) == {
            "assigned_to",
            "exploitation_types",
            "victim.full_name",
            "victim.phone",
        }
        revealed = await world.client.get(
            f"/api/v1/cases/{case['id']}?reveal=identity",
            headers={**worker.headers, "X-Purpose-Of-Use": "case_management"},
        )
        assert revealed.json()["victim"]["full_name"] == new_name

    async def test_assignee_must_belong_to_owning_agency(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        outsider = await world.user(Role.CASE_WORKER, login=False)
        case = await open_case(world, worker)
        response = await world.client.patch(
            f"/api/v1/cases/{case['id']}",
            json={"assigned_to": str(outsider.id)},
            headers=_if_match(worker.headers, 1),
        )
        assert_problem(response, 422)
        cleared = await world.client.patch(
            f"/api/v1/cases/{case['id']}",
            json={"victim": {"sex": None}},
            headers=_if_match(worker.headers, 1),
        )
        assert_problem(cleared, 422)

    async def test_other_agency_404(self, world: World, engine: AsyncEngine) -> None:
        owner = await world.user(Role.CASE_WORKER)
        stranger = await world.user(Role.CASE_WORKER)
        case = await open_case(world, owner)
        mark = await last_event_id(engine)
        response = await world.client.patch(
            f"/api/v1/cases/{case['id']}",
            json={"currently_abroad": True},
            headers=_if_match(stranger.headers, 1),
        )
        assert_problem(response, 404)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("case.update", "denied")


class TestTransitions:
    async def test_anonymous_401(self, world: World) -> None:
        response = await world.client.post(
            f"/api/v1/cases/{uuid.uuid4()}/transitions", json={"to": "verifying"}
        )
        assert_problem(response, 401)

    async def test_legal_and_illegal_moves(self, world: World, engine: AsyncEngine) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker)
        url = f"/api/v1/cases/{case['id']}/transitions"
        assert_problem(
            await world.client.post(url, json={"to": "verifying"}, headers=worker.headers), 428
        )
        refused = await world.client.post(
            url, json={"to": "identified"}, headers=_if_match(worker.headers, 1)
        )
        problem = assert_problem(refused, 409)
        assert problem["allowed"] == ["closed", "verifying"]
        no_reason = await world.client.post(
            url, json={"to": "closed"}, headers=_if_match(worker.headers, 1)
        )
        assert_problem(no_reason, 409)
        mark = await last_event_id(engine)
        moved = await world.client.post(
            url, json={"to": "verifying"}, headers=_if_match(worker.headers, 1)
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "verifying"
        assert moved.headers["ETag"] == '"2"'
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["reason"]) == ("case.transition", "received:verifying")
        stale = await world.client.post(
            url, json={"to": "supporting"}, headers=_if_match(worker.headers, 1)
        )
        assert_problem(stale, 412)
        assert stale.headers["ETag"] == '"2"'  # the current version
        assert_problem(
            await world.client.post(url, json={"to": "lost"}, headers=_if_match(worker.headers, 2)),
            422,
        )

    async def test_other_agency_404(self, world: World) -> None:
        owner = await world.user(Role.CASE_WORKER)
        stranger = await world.user(Role.CASE_WORKER)
        case = await open_case(world, owner)
        response = await world.client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            json={"to": "verifying"},
            headers=_if_match(stranger.headers, 1),
        )
        assert_problem(response, 404)


class TestTimeline:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get(f"/api/v1/cases/{uuid.uuid4()}/timeline"), 401)

    async def test_oldest_first_with_decrypted_reason(
        self, world: World, engine: AsyncEngine
    ) -> None:
        worker = await world.user(Role.CASE_WORKER)
        case = await open_case(world, worker)
        reason = "Nạn nhân tự nguyện về quê, đã liên hệ gia đình"
        closed = await world.client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            json={"to": "closed", "reason": reason},
            headers=_if_match(worker.headers, 1),
        )
        assert closed.status_code == 200, closed.text
        mark = await last_event_id(engine)
        response = await world.client.get(
            f"/api/v1/cases/{case['id']}/timeline", headers=worker.headers
        )
        assert response.status_code == 200
        entries = response.json()["items"]
        assert [e["kind"] for e in entries] == ["case_opened", "status_changed"]
        last = entries[-1]
        assert (last["from_status"], last["to_status"], last["note"]) == (
            "received",
            "closed",
            reason,
        )
        assert last["actor_id"] == str(worker.id)
        assert last["actor_agency_id"] == str(worker.agency.id)
        (event,) = await events_after(engine, mark)
        assert event["action"] == "case_timeline.read"

    async def test_other_agency_404(self, world: World) -> None:
        owner = await world.user(Role.CASE_WORKER)
        stranger = await world.user(Role.SUPERVISOR)
        case = await open_case(world, owner)
        response = await world.client.get(
            f"/api/v1/cases/{case['id']}/timeline", headers=stranger.headers
        )
        assert_problem(response, 404)


class TestAccessLog:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get(f"/api/v1/cases/{uuid.uuid4()}/access-log"), 401)

    async def test_supervisor_sees_who_read(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        supervisor = await world.user(Role.SUPERVISOR, worker.agency)
        case = await open_case(world, worker)
        await world.client.get(f"/api/v1/cases/{case['id']}", headers=worker.headers)
        response = await world.client.get(
            f"/api/v1/cases/{case['id']}/access-log", headers=supervisor.headers
        )
        assert response.status_code == 200, response.text
        actions = [(e["action"], e["actor_id"]) for e in response.json()["items"]]
        assert ("case.read", str(worker.id)) in actions
        assert ("case.create", str(worker.id)) in actions

    async def test_case_worker_403_other_agency_404(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        stranger = await world.user(Role.SUPERVISOR)
        case = await open_case(world, worker)
        url = f"/api/v1/cases/{case['id']}/access-log"
        assert_problem(await world.client.get(url, headers=worker.headers), 403)
        assert_problem(await world.client.get(url, headers=stranger.headers), 404)
