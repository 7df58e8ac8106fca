"""`GET /api/v1/webhooks/{id}/deliveries[/{did}]`, `POST …/deliveries/{did}/redeliver`,
`POST /api/v1/webhooks/{id}/ping`: an endpoint's delivery log with every attempt,
redelivery of the same event and a test ping, for the endpoint's agency admins only.
Deliveries are checked with the `standardwebhooks` library, as a receiver would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.security.permissions import Role
from app.services.webhooks import delivery
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import Actor, World, assert_problem
from tests.webhooks.helpers import (
    PUBLIC_URL,
    WEBHOOKS,
    app_settings,
    assert_tampering_fails,
    receiver,
    register,
    verified,
)


@pytest.fixture
def allow_private(app: FastAPI) -> Iterator[Settings]:
    with app_settings(app, webhook_allow_private=True) as settings:
        yield settings


async def deliver(app: FastAPI, settings: Settings) -> int:
    return await delivery.run_once(app.state.sessionmaker, app.state.keys, settings)


async def ping(world: World, actor: Actor, webhook_id: str) -> Any:
    return await world.client.post(f"{WEBHOOKS}/{webhook_id}/ping", headers=actor.headers)


async def log(world: World, actor: Actor, webhook_id: str, **params: Any) -> Any:
    return await world.client.get(
        f"{WEBHOOKS}/{webhook_id}/deliveries", params=params, headers=actor.headers
    )


class TestPing:
    async def test_ping_reaches_only_that_endpoint_signed(
        self, world: World, app: FastAPI, engine: AsyncEngine, allow_private: Settings
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        with receiver() as hook:
            # Subscribed to something else: a ping needs no subscription.
            mine = await register(world, admin, hook.url(path="/mine"), ["referral.created"])
            await register(world, admin, hook.url(path="/sibling"), ["referral.created"])
            mark = await last_event_id(engine)
            response = await ping(world, admin, mine["id"])
            assert response.status_code == 201, response.text
            queued = response.json()
            assert response.headers["Location"] == (
                f"{WEBHOOKS}/{mine['id']}/deliveries/{queued['id']}"
            )
            assert (queued["event_type"], queued["status"], queued["attempt_count"]) == (
                "webhook.ping",
                "pending",
                0,
            )
            assert queued["attempts"] == []
            assert await deliver(app, allow_private) == 1
        [got] = hook.received
        assert got.path == "/mine"
        payload = verified(mine["secret"], got)
        assert_tampering_fails(mine["secret"], got)
        assert payload["type"] == "webhook.ping"
        assert payload["data"] == {"webhook_id": mine["id"]}
        assert got.headers["webhook-id"] == queued["event_id"]
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["resource_id"]) for e in events] == [
            ("webhook.ping", "success", mine["id"])
        ]
        shown = await world.client.get(response.headers["Location"], headers=admin.headers)
        assert shown.status_code == 200, shown.text
        assert shown.json()["status"] == "delivered"
        [attempt] = shown.json()["attempts"]
        assert (attempt["status_code"], attempt["error"]) == (200, None)

    async def test_ping_cannot_be_subscribed_to(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        response = await world.client.post(
            WEBHOOKS,
            json={"url": PUBLIC_URL, "events": ["referral.created", "webhook.ping"]},
            headers=admin.headers,
        )
        assert_problem(response, 422)

    async def test_deactivated_endpoint_is_404_but_its_log_stays(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        created = await register(world, admin, PUBLIC_URL)
        assert (await ping(world, admin, created["id"])).status_code == 201
        gone = await world.client.delete(f"{WEBHOOKS}/{created['id']}", headers=admin.headers)
        assert gone.status_code == 204
        assert_problem(await ping(world, admin, created["id"]), 404)
        history = await log(world, admin, created["id"])
        assert history.status_code == 200
        [row] = history.json()["items"]
        assert row["status"] == "failed"  # stopped by the deactivation


class TestLogAndRedelivery:
    async def test_log_lists_every_attempt_and_redelivery_sends_the_same_event(
        self, world: World, app: FastAPI, engine: AsyncEngine, allow_private: Settings
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        with receiver(500) as hook:
            mine = await register(world, admin, hook.url())
            first = (await ping(world, admin, mine["id"])).json()
            assert await deliver(app, allow_private) == 1
            pending = await log(world, admin, mine["id"])
            [row] = pending.json()["items"]
            assert (row["status"], row["attempt_count"], row["next_attempt_at"] is None) == (
                "pending",
                1,
                False,
            )
            assert [(a["status_code"], a["error"]) for a in row["attempts"]] == [(500, None)]
            # Still being retried: no redelivery.
            redeliver = f"{WEBHOOKS}/{mine['id']}/deliveries/{first['id']}/redeliver"
            assert_problem(await world.client.post(redeliver, headers=admin.headers), 409)
            # Delivered on the retry (made due now), then redelivered on request.
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = :id"),
                    {"id": first["id"]},
                )
            assert await deliver(app, allow_private) == 1
            mark = await last_event_id(engine)
            again = await world.client.post(redeliver, headers=admin.headers)
            assert again.status_code == 201, again.text
            repeat = again.json()
            assert again.headers["Location"] == f"{WEBHOOKS}/{mine['id']}/deliveries/{repeat['id']}"
            assert (repeat["event_id"], repeat["redelivery_of"], repeat["status"]) == (
                first["event_id"],
                first["id"],
                "pending",
            )
            assert await deliver(app, allow_private) == 1
        assert [e["action"] for e in await events_after(engine, mark)] == ["webhook.redeliver"]
        assert len(hook.received) == 3
        # The same event each time: same body and webhook-id, each signature valid.
        bodies = {verified(mine["secret"], got)["data"]["webhook_id"] for got in hook.received}
        assert bodies == {mine["id"]}
        assert {got.headers["webhook-id"] for got in hook.received} == {first["event_id"]}
        listed = (await log(world, admin, mine["id"])).json()["items"]
        assert [d["id"] for d in listed] == [repeat["id"], first["id"]]  # newest first
        by_id = {d["id"]: d for d in listed}
        assert [a["status_code"] for a in by_id[first["id"]]["attempts"]] == [500, 200]
        assert by_id[first["id"]]["status"] == "delivered"
        assert by_id[first["id"]]["next_attempt_at"] is None
        assert [a["status_code"] for a in by_id[repeat["id"]]["attempts"]] == [200]

    async def test_log_is_paginated(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        created = await register(world, admin, PUBLIC_URL)
        for _ in range(3):
            assert (await ping(world, admin, created["id"])).status_code == 201
        first = (await log(world, admin, created["id"], limit=2)).json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = (await log(world, admin, created["id"], limit=2, cursor=first["next_cursor"])).json()
        assert len(rest["items"]) == 1 and rest["next_cursor"] is None
        ids = [d["id"] for d in first["items"] + rest["items"]]
        assert len(set(ids)) == 3
        assert_problem(await log(world, admin, created["id"], limit=0), 422)

    async def test_a_delivery_of_another_endpoint_is_404(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        one = await register(world, admin, PUBLIC_URL)
        two = await register(world, admin, PUBLIC_URL)
        queued = (await ping(world, admin, one["id"])).json()
        for path in (f"/deliveries/{queued['id']}", f"/deliveries/{uuid.uuid4()}"):
            url = f"{WEBHOOKS}/{two['id']}{path}"
            assert_problem(await world.client.get(url, headers=admin.headers), 404)
            assert_problem(await world.client.post(url + "/redeliver", headers=admin.headers), 404)


class TestAccess:
    async def test_other_agency_is_404_with_a_denied_audit_row(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner = await world.user(Role.AGENCY_ADMIN)
        stranger = await world.user(Role.AGENCY_ADMIN)
        theirs = await register(world, owner, PUBLIC_URL)
        queued = (await ping(world, owner, theirs["id"])).json()
        base = f"{WEBHOOKS}/{theirs['id']}"
        calls = [
            ("GET", f"{base}/deliveries", "webhook.delivery_list"),
            ("GET", f"{base}/deliveries/{queued['id']}", "webhook.delivery_read"),
            ("POST", f"{base}/deliveries/{queued['id']}/redeliver", "webhook.redeliver"),
            ("POST", f"{base}/ping", "webhook.ping"),
        ]
        for method, url, action in calls:
            mark = await last_event_id(engine)
            response = await world.client.request(method, url, headers=stranger.headers)
            assert_problem(response, 404)
            events = await events_after(engine, mark)
            assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
                (action, "denied", "out_of_reach")
            ]

    async def test_other_roles_are_403_and_anonymous_401(self, world: World) -> None:
        owner = await world.user(Role.AGENCY_ADMIN)
        created = await register(world, owner, PUBLIC_URL)
        url = f"{WEBHOOKS}/{created['id']}"
        for role in (Role.CASE_WORKER, Role.SUPERVISOR):
            actor = await world.user(role, owner.agency)
            assert_problem(await log(world, actor, created["id"]), 403)
            assert_problem(await ping(world, actor, created["id"]), 403)
        assert_problem(await world.client.get(f"{url}/deliveries"), 401)
        assert_problem(await world.client.post(f"{url}/ping"), 401)
