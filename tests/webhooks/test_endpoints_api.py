"""`GET|POST /api/v1/webhooks`, `DELETE /api/v1/webhooks/{id}`: an agency admin's
endpoints, scoped to their agency, with the secret shown once and wrapped at rest."""

from __future__ import annotations

import base64
import uuid

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models.webhook import WebhookEndpoint
from app.security.permissions import Role
from app.services.webhooks.endpoints import open_secret
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.webhooks.helpers import PUBLIC_URL, WEBHOOKS, register


class TestCreateWebhook:
    async def test_anonymous_is_401(self, world: World) -> None:
        response = await world.client.post(WEBHOOKS, json={"url": PUBLIC_URL, "events": []})
        assert_problem(response, 401)

    async def test_non_admin_roles_are_403(self, world: World) -> None:
        for role in (Role.CASE_WORKER, Role.SUPERVISOR, Role.SYSTEM_ADMIN):
            actor = await world.user(role)
            response = await world.client.post(
                WEBHOOKS,
                json={"url": PUBLIC_URL, "events": ["referral.created"]},
                headers=actor.headers,
            )
            assert_problem(response, 403)

    async def test_bad_input_is_422(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        for body in (
            {"url": PUBLIC_URL, "events": []},
            {"url": PUBLIC_URL, "events": ["person.created"]},
            {"url": "ftp://1.1.1.1/x", "events": ["referral.created"]},
            {"url": "https://user:pw@1.1.1.1/x", "events": ["referral.created"]},
            {"url": PUBLIC_URL, "events": ["referral.created"], "secret": "mine"},
        ):
            response = await world.client.post(WEBHOOKS, json=body, headers=admin.headers)
            assert_problem(response, 422)

    async def test_created_with_the_secret_once_and_audited(
        self, world: World, engine: AsyncEngine
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        mark = await last_event_id(engine)
        body = await register(world, admin, PUBLIC_URL, ["referral.created", "case.transferred"])
        assert body["secret"].startswith("whsec_")
        assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
        assert body["agency_id"] == str(admin.agency.id)
        assert body["events"] == ["case.transferred", "referral.created"]
        assert body["is_active"] is True
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["resource_id"]) for e in events] == [
            ("webhook.create", "success", body["id"])
        ]
        listed = await world.client.get(WEBHOOKS, headers=admin.headers)
        assert listed.status_code == 200
        assert [e["id"] for e in listed.json()["items"]] == [body["id"]]
        assert "secret" not in listed.json()["items"][0]

    async def test_secret_is_encrypted_at_rest(
        self, world: World, engine: AsyncEngine, app: FastAPI
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        body = await register(world, admin, PUBLIC_URL)
        raw = base64.b64decode(body["secret"].removeprefix("whsec_"))
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT * FROM webhook_endpoints WHERE id = :id"), {"id": body["id"]}
                )
            ).one()
            dump = repr(tuple(row)).encode() + b"".join(
                v for v in tuple(row) if isinstance(v, bytes)
            )
            stored = (await conn.execute(text("SELECT count(*) FROM idempotency_keys"))).scalar()
        assert raw not in dump
        assert body["secret"].encode() not in dump
        assert body["secret"].removeprefix("whsec_").encode() not in dump
        assert stored == 0
        endpoint = WebhookEndpoint(**dict(row._mapping))
        assert open_secret(app.state.keys, endpoint) == raw
        assert "redacted" in repr(endpoint)


class TestListWebhooks:
    async def test_anonymous_is_401(self, world: World) -> None:
        assert_problem(await world.client.get(WEBHOOKS), 401)

    async def test_non_admin_is_403(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        assert_problem(await world.client.get(WEBHOOKS, headers=worker.headers), 403)

    async def test_bad_page_size_is_422(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        response = await world.client.get(WEBHOOKS, params={"limit": 0}, headers=admin.headers)
        assert_problem(response, 422)

    async def test_only_own_agency_active_endpoints_and_audited(
        self, world: World, engine: AsyncEngine
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        other = await world.user(Role.AGENCY_ADMIN)
        mine = await register(world, admin, PUBLIC_URL)
        gone = await register(world, admin, "https://1.0.0.1/old")
        await register(world, other, PUBLIC_URL)
        deleted = await world.client.delete(f"{WEBHOOKS}/{gone['id']}", headers=admin.headers)
        assert deleted.status_code == 204
        mark = await last_event_id(engine)
        response = await world.client.get(WEBHOOKS, headers=admin.headers)
        assert response.status_code == 200
        assert [e["id"] for e in response.json()["items"]] == [mine["id"]]
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("webhook.list", "success")]


class TestDeleteWebhook:
    async def test_anonymous_is_401(self, world: World) -> None:
        assert_problem(await world.client.delete(f"{WEBHOOKS}/{uuid.uuid4()}"), 401)

    async def test_non_admin_is_403(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        response = await world.client.delete(f"{WEBHOOKS}/{uuid.uuid4()}", headers=worker.headers)
        assert_problem(response, 403)

    async def test_bad_id_is_422(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        response = await world.client.delete(f"{WEBHOOKS}/not-a-uuid", headers=admin.headers)
        assert_problem(response, 422)

    async def test_other_agency_is_404_and_denied_audit(
        self, world: World, engine: AsyncEngine
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        stranger = await world.user(Role.AGENCY_ADMIN)
        theirs = await register(world, stranger, PUBLIC_URL)
        mark = await last_event_id(engine)
        response = await world.client.delete(f"{WEBHOOKS}/{theirs['id']}", headers=admin.headers)
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"], e["resource_id"]) for e in events] == [
            ("webhook.delete", "denied", "out_of_reach", theirs["id"])
        ]
        still = await world.client.get(WEBHOOKS, headers=stranger.headers)
        assert [e["id"] for e in still.json()["items"]] == [theirs["id"]]

    async def test_deactivates_keeps_the_row_and_audits(
        self, world: World, engine: AsyncEngine
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        created = await register(world, admin, PUBLIC_URL)
        mark = await last_event_id(engine)
        url = f"{WEBHOOKS}/{created['id']}"
        response = await world.client.delete(url, headers=admin.headers)
        assert response.status_code == 204
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["resource_id"]) for e in events] == [
            ("webhook.delete", "success", created["id"])
        ]
        async with engine.connect() as conn:
            active = (
                await conn.execute(
                    text("SELECT is_active FROM webhook_endpoints WHERE id = :id"),
                    {"id": created["id"]},
                )
            ).scalar_one()
        assert active is False
        assert_problem(await world.client.delete(url, headers=admin.headers), 404)
