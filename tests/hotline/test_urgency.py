"""`immediate_danger`: queue order, the `hotline_report.created` event, the response
deadline and the overdue list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import get_settings
from app.security.permissions import Role
from app.services import hotline_queue
from tests.conftest import Actor, World, assert_problem
from tests.hotline.helpers import BASE, forward, operator, record_report, report_body
from tests.webhooks.helpers import PUBLIC_URL, register


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def _ids(world: World, actor: Actor, query: str = "") -> list[str]:
    response = await world.client.get(f"{BASE}{query}", headers=actor.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def _triage(world: World, actor: Actor, report_id: uuid.UUID, **body: Any) -> None:
    response = await world.client.post(
        f"{BASE}/{report_id}/triage", json=body, headers={**actor.headers, "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text


class TestQueueOrder:
    async def test_immediate_danger_waiting_comes_first(self, world: World) -> None:
        actor = await operator(world)
        old, _ = await record_report(world, actor, urgency="routine")
        danger, _ = await record_report(world, actor, urgency="immediate_danger")
        urgent, _ = await record_report(world, actor, urgency="urgent")
        new, _ = await record_report(world, actor, urgency="routine")
        expected = [str(danger), str(new), str(urgent), str(old)]
        assert await _ids(world, actor) == expected

        paged: list[str] = []
        cursor = None
        while True:
            query = f"?limit=1&cursor={cursor}" if cursor else "?limit=1"
            response = await world.client.get(f"{BASE}{query}", headers=actor.headers)
            paged += [item["id"] for item in response.json()["items"]]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        assert paged == expected

    async def test_answered_it_takes_its_place_by_time(self, world: World) -> None:
        actor = await operator(world)
        danger, _ = await record_report(world, actor, urgency="immediate_danger")
        new, _ = await record_report(world, actor, urgency="routine")
        await _triage(world, actor, danger, action="close", reason="đã an toàn")
        assert await _ids(world, actor) == [str(new), str(danger)]

    async def test_a_malformed_cursor_is_422(self, world: World) -> None:
        actor = await operator(world)
        assert_problem(await world.client.get(f"{BASE}?cursor=bm9wZQ", headers=actor.headers), 422)


class TestCreatedEvent:
    async def _endpoint(self, world: World, hotline: Any) -> None:
        admin = await world.user(Role.AGENCY_ADMIN, hotline)
        await register(world, admin, PUBLIC_URL, ["hotline_report.created"])

    async def _events(self, engine: AsyncEngine) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT agency_id, payload FROM webhook_events"
                    " WHERE event_type = 'hotline_report.created' ORDER BY created_at"
                )
            )
            return [(r.agency_id, r.payload) for r in rows]

    async def test_payload_carries_the_urgency_and_no_identity(
        self, world: World, engine: AsyncEngine
    ) -> None:
        actor = await operator(world)
        stranger = await operator(world)
        await self._endpoint(world, actor.agency)
        await self._endpoint(world, stranger.agency)
        danger, body = await record_report(world, actor, urgency="immediate_danger")
        routine, _ = await record_report(world, actor, urgency="routine")

        events = await self._events(engine)
        assert [agency for agency, _ in events] == [actor.agency.id, actor.agency.id]
        (_, first), (_, second) = events
        assert first["type"] == "hotline_report.created"
        shown = await world.client.get(f"{BASE}/{danger}", headers=actor.headers)
        respond_by = datetime.fromisoformat(shown.json()["respond_by"])
        assert first["data"] == {
            "hotline_report_id": str(danger),
            "urgency": "immediate_danger",
            "channel": "phone",
            "province_code": "40",
            "respond_by": respond_by.isoformat().replace("+00:00", "Z"),
        }
        assert second["data"]["urgency"] == "routine"
        assert second["data"]["hotline_report_id"] == str(routine)
        assert "respond_by" not in second["data"]
        for secret in (body["caller"]["name"], body["suspected_victims"][0]["name"]):
            assert secret not in str(events)

    async def test_a_rolled_back_report_announces_nothing(
        self, world: World, engine: AsyncEngine
    ) -> None:
        actor = await operator(world)
        await self._endpoint(world, actor.agency)
        response = await world.client.post(
            BASE,
            json=report_body(province_code="99", urgency="immediate_danger"),
            headers=actor.headers,
        )
        assert_problem(response, 422)
        assert await self._events(engine) == []


class TestResponseDeadline:
    async def test_respond_by_is_received_plus_the_setting(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings = get_settings().model_copy(
            update={"hotline_immediate_danger_response_minutes": 15}
        )
        monkeypatch.setattr(hotline_queue, "get_settings", lambda: settings)
        actor = await operator(world)
        received = datetime.now(UTC) - timedelta(minutes=3)
        danger, _ = await record_report(
            world, actor, urgency="immediate_danger", received_at=received.isoformat()
        )
        urgent, _ = await record_report(world, actor, urgency="urgent")
        shown = (await world.client.get(f"{BASE}/{danger}", headers=actor.headers)).json()
        assert datetime.fromisoformat(shown["respond_by"]) == received + timedelta(minutes=15)
        assert (shown["responded_at"], shown["overdue"]) == (None, False)
        other = (await world.client.get(f"{BASE}/{urgent}", headers=actor.headers)).json()
        assert (other["respond_by"], other["overdue"]) == (None, False)

    async def test_default_is_an_hour(self) -> None:
        assert get_settings().hotline_immediate_danger_response_minutes == 60

    async def test_first_triage_is_the_answer(self, world: World) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        worker = await world.user(Role.CASE_WORKER, police)
        report_id, _ = await record_report(world, actor, urgency="immediate_danger")
        await forward(world, actor, report_id, police.id)
        forwarded = (await world.client.get(f"{BASE}/{report_id}", headers=actor.headers)).json()
        assert forwarded["responded_at"] is not None
        response = await world.client.post(
            f"{BASE}/{report_id}/triage",
            json={"action": "open_case"},
            headers={**worker.headers, "If-Match": '"2"'},
        )
        assert response.status_code == 200, response.text
        opened = (await world.client.get(f"{BASE}/{report_id}", headers=worker.headers)).json()
        assert opened["responded_at"] == forwarded["responded_at"]
        assert opened["triaged_at"] != forwarded["triaged_at"]


class TestOverdueList:
    async def test_past_deadline_and_unanswered_only(self, world: World) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        late, _ = await record_report(
            world, actor, urgency="immediate_danger", received_at=_ago(hours=2)
        )
        closed, _ = await record_report(
            world, actor, urgency="immediate_danger", received_at=_ago(hours=2)
        )
        forwarded, _ = await record_report(
            world, actor, urgency="immediate_danger", received_at=_ago(hours=2)
        )
        routine, _ = await record_report(world, actor, urgency="routine", received_at=_ago(hours=3))
        fresh, _ = await record_report(
            world, actor, urgency="immediate_danger", received_at=_ago(minutes=5)
        )
        await _triage(world, actor, closed, action="close", reason="gia đình đã đón về")
        await forward(world, actor, forwarded, police.id)

        assert await _ids(world, actor, "?overdue=true") == [str(late)]
        rest = await _ids(world, actor, "?overdue=false")
        assert set(rest) == {str(closed), str(forwarded), str(routine), str(fresh)}
        assert rest[0] == str(fresh)  # waiting, in immediate danger: first
        items = (await world.client.get(BASE, headers=actor.headers)).json()["items"]
        flags = {item["id"]: item["overdue"] for item in items}
        assert flags == {
            str(late): True,
            str(closed): False,
            str(forwarded): False,
            str(routine): False,
            str(fresh): False,
        }
        assert (await _ids(world, actor))[:2] == [str(fresh), str(late)]

    async def test_other_agencies_see_none_of_it(self, world: World) -> None:
        actor = await operator(world)
        late, _ = await record_report(
            world, actor, urgency="immediate_danger", received_at=_ago(hours=2)
        )
        for stranger in (await operator(world), await world.user(Role.CASE_WORKER)):
            assert await _ids(world, stranger, "?overdue=true") == []
            assert await _ids(world, stranger) == []
            assert_problem(await world.client.get(f"{BASE}/{late}", headers=stranger.headers), 404)
        admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        assert_problem(await world.client.get(f"{BASE}?overdue=true", headers=admin.headers), 404)

    async def test_status_and_overdue_combine(self, world: World) -> None:
        actor = await operator(world)
        late, _ = await record_report(
            world, actor, urgency="immediate_danger", received_at=_ago(hours=2)
        )
        assert await _ids(world, actor, "?overdue=true&status=open") == [str(late)]
        assert await _ids(world, actor, "?overdue=true&status=closed") == []
