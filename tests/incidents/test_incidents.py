"""The register of personal-data incidents: deadline, notifications, overdue list,
scope by agency, the description sealed, and the overdue webhook event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from app.services import incidents
from app.services.webhooks import worker
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.incidents.helpers import (
    DESCRIPTION,
    URL,
    admin,
    ago,
    body,
    listed,
    notified,
    recorded,
)
from tests.webhooks.helpers import PUBLIC_URL, register


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class TestRecord:
    async def test_notify_by_is_72_hours_after_detection(self, world: World) -> None:
        detected = "2026-11-01T08:00:00+00:00"
        answer = await recorded(world, await admin(world), detected_at=detected)
        assert _at(answer["notify_by"]) - _at(detected) == timedelta(hours=72)
        assert answer["overdue"] is True  # long past, nothing notified
        assert answer["description"] == DESCRIPTION  # as written
        assert answer["notifications"] == []

    async def test_the_setting_moves_the_deadline(self, world: World) -> None:
        settings = world.client._transport.app.state.settings  # type: ignore[attr-defined]
        before = settings.incident_notify_hours
        settings.incident_notify_hours = 24
        try:
            answer = await recorded(world, await admin(world), detected_at=ago(1))
        finally:
            settings.incident_notify_hours = before
        assert _at(answer["notify_by"]) - _at(answer["detected_at"]) == timedelta(hours=24)

    async def test_the_description_is_sealed(self, world: World, engine: AsyncEngine) -> None:
        actor = await admin(world)
        answer = await recorded(world, actor)
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    text("SELECT description FROM incidents WHERE id = :id"),
                    {"id": answer["id"]},
                )
            ).scalar_one()
        assert DESCRIPTION.encode() not in bytes(stored)
        (item,) = await listed(world, actor)
        assert item["description"] == DESCRIPTION

    async def test_invalid_bodies(self, world: World) -> None:
        actor = await admin(world)
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        for bad in (
            {"nature": "leak"},
            {"severity": "huge"},
            {"persons_affected": -1},
            {"description": "ngắn"},
            {"detected_at": "2026-11-01T08:00:00"},  # no time zone
            {"detected_at": tomorrow},
        ):
            response = await world.client.post(URL, json=body(**bad), headers=actor.headers)
            assert_problem(response, 422)

    async def test_audited(self, world: World, engine: AsyncEngine) -> None:
        actor = await admin(world)
        mark = await last_event_id(engine)
        answer = await recorded(world, actor, severity="critical")
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["resource_id"], event["reason"]) == (
            "incident.create",
            answer["id"],
            "severity:critical",
        )


class TestNotifications:
    async def test_authority_notification_ends_overdue(self, world: World) -> None:
        actor = await admin(world)
        late = await recorded(world, actor, detected_at=ago(100))
        assert [i["id"] for i in await listed(world, actor, "?overdue=true")] == [late["id"]]
        after = await notified(world, actor, late["id"], "authority")
        assert after["overdue"] is False
        assert [n["recipient"] for n in after["notifications"]] == ["authority"]
        assert await listed(world, actor, "?overdue=true") == []
        assert [i["id"] for i in await listed(world, actor, "?overdue=false")] == [late["id"]]

    async def test_notifying_the_persons_does_not_count(self, world: World) -> None:
        actor = await admin(world)
        late = await recorded(world, actor, detected_at=ago(100))
        after = await notified(world, actor, late["id"], "persons")
        assert after["overdue"] is True
        assert [i["id"] for i in await listed(world, actor, "?overdue=true")] == [late["id"]]

    async def test_not_yet_due_is_not_overdue(self, world: World) -> None:
        actor = await admin(world)
        fresh = await recorded(world, actor, detected_at=ago(1))
        assert fresh["overdue"] is False
        assert await listed(world, actor, "?overdue=true") == []
        assert [i["id"] for i in await listed(world, actor, "?overdue=false")] == [fresh["id"]]

    async def test_notified_at_is_checked(self, world: World) -> None:
        actor = await admin(world)
        incident = await recorded(world, actor, detected_at=ago(10))
        target = f"{URL}/{incident['id']}/notifications"
        for notified_at in (ago(20), (datetime.now(UTC) + timedelta(days=1)).isoformat()):
            response = await world.client.post(
                target,
                json={"recipient": "authority", "notified_at": notified_at},
                headers=actor.headers,
            )
            assert_problem(response, 422)
        response = await world.client.post(
            target, json={"recipient": "press", "notified_at": ago(1)}, headers=actor.headers
        )
        assert_problem(response, 422)

    async def test_unknown_incident(self, world: World) -> None:
        response = await world.client.post(
            f"{URL}/{uuid.uuid4()}/notifications",
            json={"recipient": "authority", "notified_at": ago(1)},
            headers=(await admin(world)).headers,
        )
        assert_problem(response, 404)


class TestScope:
    async def test_an_agency_sees_its_own_and_national_roles_see_all(self, world: World) -> None:
        mine, theirs = await admin(world, "40"), await admin(world, "01")
        a = await recorded(world, mine)
        b = await recorded(world, theirs)
        assert [i["id"] for i in await listed(world, mine)] == [a["id"]]
        national = await world.agency("national")
        for role in (Role.SYSTEM_ADMIN, Role.AUDITOR):
            seen = await listed(world, await world.user(role, national))
            assert {i["id"] for i in seen} == {a["id"], b["id"]}

    async def test_another_agency_cannot_notify(self, world: World, engine: AsyncEngine) -> None:
        mine, theirs = await admin(world, "40"), await admin(world, "01")
        incident = await recorded(world, mine)
        mark = await last_event_id(engine)
        response = await world.client.post(
            f"{URL}/{incident['id']}/notifications",
            json={"recipient": "authority", "notified_at": ago(0.1)},
            headers=theirs.headers,
        )
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("incident.notify", "denied", "out_of_reach")
        ]

    async def test_who_may(self, world: World) -> None:
        agency = await world.agency("social_affairs", "40")
        auditor = await world.user(Role.AUDITOR, await world.agency("national"))
        response = await world.client.post(URL, json=body(), headers=auditor.headers)
        assert_problem(response, 403)
        for role in (Role.SUPERVISOR, Role.CASE_WORKER, Role.ANALYST):
            actor = await world.user(role, agency)
            assert_problem(await world.client.get(URL, headers=actor.headers), 403)
            response = await world.client.post(URL, json=body(), headers=actor.headers)
            assert_problem(response, 403)


class TestOverdueEvent:
    async def _events(self, engine: AsyncEngine) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT agency_id, payload FROM webhook_events"
                    " WHERE event_type = 'incident.overdue' ORDER BY created_at"
                )
            )
            return [(r.agency_id, r.payload) for r in rows]

    async def test_announced_once_when_the_deadline_passes(
        self, world: World, engine: AsyncEngine
    ) -> None:
        actor = await admin(world)
        await register(world, actor, PUBLIC_URL, ["incident.overdue"])
        late = await recorded(world, actor, detected_at=ago(100))
        told = await recorded(world, actor, detected_at=ago(100))
        await notified(world, actor, told["id"], "authority")
        await recorded(world, actor, detected_at=ago(1))  # not yet due
        mark = await last_event_id(engine)
        sessionmaker = world.client._transport.app.state.sessionmaker  # type: ignore[attr-defined]
        assert await worker.run_periodic_jobs(sessionmaker) == 1
        assert await worker.run_periodic_jobs(sessionmaker) == 0  # once only
        events = await self._events(engine)
        assert [agency for agency, _ in events] == [actor.agency.id]
        payload = events[0][1]
        assert payload["type"] == "incident.overdue"
        assert payload["data"]["incident_id"] == late["id"]
        assert DESCRIPTION not in str(payload)
        (audited,) = await events_after(engine, mark)
        assert (audited["action"], audited["actor_type"], audited["reason"]) == (
            "incident.overdue",
            "system",
            "notify_by_passed",
        )

    async def test_the_sweep_function_alone(self, world: World) -> None:
        actor = await admin(world)
        await recorded(world, actor, detected_at=ago(100))
        sessionmaker = world.client._transport.app.state.sessionmaker  # type: ignore[attr-defined]
        async with sessionmaker() as session:
            assert await incidents.announce_overdue(session, datetime.now(UTC)) == 1
            await session.commit()
