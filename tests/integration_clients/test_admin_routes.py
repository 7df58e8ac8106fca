"""GET|POST /api/v1/integration-clients, GET /api/v1/integration-clients/{client_id},
POST /api/v1/integration-clients/{client_id}/revoke."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import IntegrationClient
from app.schemas.integration_clients import ClientScope
from app.security.permissions import CLIENT_SCOPES, Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.integration_clients.helpers import CLIENTS, register

NEW = {"name": "Cổng liên thông của tỉnh (test)", "scopes": ["cases:read", "referrals:read"]}
NOT_ADMINS = [
    Role.SYSTEM_ADMIN,
    Role.SUPERVISOR,
    Role.CASE_WORKER,
    Role.HOTLINE_OPERATOR,
    Role.AUDITOR,
    Role.ANALYST,
]


def test_grantable_scopes_are_exactly_the_client_scopes() -> None:
    assert {s.value for s in ClientScope} == {p.value for p in CLIENT_SCOPES}


class TestCreateClient:
    async def test_anonymous_401(self, world: World) -> None:
        response = await world.client.post(CLIENTS, json=NEW)
        assert_problem(response, 401)
        assert "WWW-Authenticate" in response.headers

    @pytest.mark.parametrize("role", NOT_ADMINS)
    async def test_other_roles_403(self, world: World, role: Role) -> None:
        actor = await world.user(role)
        assert_problem(await world.client.post(CLIENTS, json=NEW, headers=actor.headers), 403)

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "x", "scopes": ["users:manage"]},
            {"name": "x", "scopes": ["cases:write"]},
            {"name": "x", "scopes": ["integration_clients:manage"]},
            {"name": "x", "scopes": ["audit:read"]},
            {"name": "x", "scopes": []},
            {"name": "", "scopes": ["cases:read"]},
            {"name": "x", "scopes": ["cases:read"], "agency_id": str(uuid.uuid4())},
        ],
    )
    async def test_bad_body_422(self, world: World, body: dict[str, object]) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        assert_problem(await world.client.post(CLIENTS, json=body, headers=admin.headers), 422)

    async def test_secret_shown_once_and_stored_hashed(
        self, world: World, engine: AsyncEngine
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        mark = await last_event_id(engine)
        response = await world.client.post(CLIENTS, json=NEW, headers=admin.headers)
        assert response.status_code == 201, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        secret = body["client_secret"]
        assert secret.startswith("vcmcs_") and len(secret) >= 40
        assert body["agency_id"] == str(admin.agency.id)
        assert body["scopes"] == ["cases:read", "referrals:read"]
        assert body["revoked_at"] is None

        # Not in any later answer...
        read = await world.client.get(f"{CLIENTS}/{body['client_id']}", headers=admin.headers)
        listed = await world.client.get(CLIENTS, headers=admin.headers)
        for later in (read, listed):
            assert later.status_code == 200
            assert secret not in later.text and "client_secret" not in later.text
        # ...nor anywhere in the database: the row holds a 32-byte digest only.
        async with engine.connect() as conn:
            dump = (
                await conn.execute(
                    text("SELECT row_to_json(c)::text FROM integration_clients c"),
                )
            ).scalar_one()
            audit_dump = (
                await conn.execute(
                    text("SELECT string_agg(row_to_json(e)::text, '') FROM audit_events e")
                )
            ).scalar_one()
            stored = (
                await conn.execute(text("SELECT secret_hash FROM integration_clients"))
            ).scalar_one()
        assert secret not in dump and secret not in audit_dump
        assert secret[6:] not in dump
        assert len(stored) == 32

        events = await events_after(engine, mark)
        assert events[0]["action"] == "integration_client.create"
        assert events[0]["resource_id"] == body["client_id"]
        assert events[0]["actor_id"] == admin.id and events[0]["actor_type"] == "user"
        assert sorted(events[0]["fields"]) == ["name", "scopes"]

    async def test_duplicate_scopes_collapse(self, world: World) -> None:
        made = await register(world, ("cases:read", "cases:read"))
        assert made.body["scopes"] == ["cases:read"]

    async def test_database_refuses_an_administrative_scope(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN, login=False)
        world.session.add(
            IntegrationClient(
                agency_id=admin.agency.id,
                name="x",
                scopes=["users:manage"],
                secret_hash=b"\0" * 32,
                created_by=admin.id,
            )
        )
        with pytest.raises(Exception, match="ck_integration_clients_scopes_allowed"):
            await world.session.commit()
        await world.session.rollback()


class TestListClients:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get(CLIENTS), 401)

    async def test_case_worker_403(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        assert_problem(await world.client.get(CLIENTS, headers=worker.headers), 403)

    async def test_only_own_agency_and_pages(self, world: World, engine: AsyncEngine) -> None:
        mine = await register(world)
        second = await register(world, ("agencies:read",), admin=mine.admin)
        await register(world)  # another agency's
        mark = await last_event_id(engine)
        page = await world.client.get(f"{CLIENTS}?limit=1", headers=mine.admin.headers)
        assert page.status_code == 200, page.text
        first = page.json()
        assert len(first["items"]) == 1 and first["next_cursor"]
        rest = await world.client.get(
            f"{CLIENTS}?limit=1&cursor={first['next_cursor']}", headers=mine.admin.headers
        )
        ids = {first["items"][0]["client_id"], rest.json()["items"][0]["client_id"]}
        assert ids == {mine.client_id, second.client_id}
        events = await events_after(engine, mark)
        assert [e["action"] for e in events] == ["integration_client.list"] * 2

    async def test_bad_limit_422(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        assert_problem(await world.client.get(f"{CLIENTS}?limit=0", headers=admin.headers), 422)


class TestGetClient:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get(f"{CLIENTS}/{uuid.uuid4()}"), 401)

    async def test_supervisor_403(self, world: World) -> None:
        made = await register(world)
        supervisor = await world.user(Role.SUPERVISOR, made.admin.agency)
        url = f"{CLIENTS}/{made.client_id}"
        assert_problem(await world.client.get(url, headers=supervisor.headers), 403)

    async def test_own_agency(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world)
        mark = await last_event_id(engine)
        response = await world.client.get(f"{CLIENTS}/{made.client_id}", headers=made.admin.headers)
        assert response.status_code == 200, response.text
        assert response.json()["name"] == made.body["name"]
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["resource_id"]) == (
            "integration_client.read",
            "success",
            made.client_id,
        )

    async def test_other_agency_404_and_denied_row(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world)
        stranger = await world.user(Role.AGENCY_ADMIN)
        mark = await last_event_id(engine)
        response = await world.client.get(f"{CLIENTS}/{made.client_id}", headers=stranger.headers)
        assert_problem(response, 404)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "integration_client.read",
            "denied",
            "out_of_reach",
        )

    async def test_unknown_404_and_bad_id_422(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        assert_problem(
            await world.client.get(f"{CLIENTS}/{uuid.uuid4()}", headers=admin.headers), 404
        )
        assert_problem(await world.client.get(f"{CLIENTS}/not-a-uuid", headers=admin.headers), 422)


class TestRevokeClient:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.post(f"{CLIENTS}/{uuid.uuid4()}/revoke"), 401)

    async def test_case_worker_403(self, world: World) -> None:
        made = await register(world)
        worker = await world.user(Role.CASE_WORKER, made.admin.agency)
        url = f"{CLIENTS}/{made.client_id}/revoke"
        assert_problem(await world.client.post(url, headers=worker.headers), 403)

    async def test_bad_id_422(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        assert_problem(await world.client.post(f"{CLIENTS}/x/revoke", headers=admin.headers), 422)

    async def test_revoke_then_again(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world)
        url = f"{CLIENTS}/{made.client_id}/revoke"
        mark = await last_event_id(engine)
        first = await world.client.post(url, headers=made.admin.headers)
        assert first.status_code == 200, first.text
        revoked_at = first.json()["revoked_at"]
        assert revoked_at
        again = await world.client.post(url, headers=made.admin.headers)
        assert again.status_code == 200 and again.json()["revoked_at"] == revoked_at
        events = await events_after(engine, mark)
        assert [(e["action"], e["reason"]) for e in events] == [
            ("integration_client.revoke", None),
            ("integration_client.revoke", "already_revoked"),
        ]

    async def test_other_agency_404_and_untouched(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world)
        stranger = await world.user(Role.AGENCY_ADMIN)
        mark = await last_event_id(engine)
        response = await world.client.post(
            f"{CLIENTS}/{made.client_id}/revoke", headers=stranger.headers
        )
        assert_problem(response, 404)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "integration_client.revoke",
            "denied",
            "out_of_reach",
        )
        still = await world.client.get(f"{CLIENTS}/{made.client_id}", headers=made.admin.headers)
        assert still.json()["revoked_at"] is None
