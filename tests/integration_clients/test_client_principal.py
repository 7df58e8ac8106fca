"""What a client token may do: act as its agency with only its scopes, and stop the
moment the client is revoked. The issue's required test is
`TestScopes.test_client_limited_to_its_scopes`."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Agency
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.integration_clients.helpers import CLIENTS, client_headers, register
from tests.routes import api_routes
from tests.support.factories import make_case

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")

ALL_SCOPES = ("agencies:read", "cases:read", "referrals:read", "referrals:write")


async def _agency_with_case(world: World) -> tuple[object, str]:
    """An agency admin and the id of a case their agency owns."""
    admin = await world.user(Role.AGENCY_ADMIN)
    worker = await world.user(Role.CASE_WORKER, admin.agency, login=False)
    case = await make_case(world, worker)
    return admin, str(case.id)


class TestScopes:
    async def test_client_limited_to_its_scopes(self, world: World, engine: AsyncEngine) -> None:
        admin, case_id = await _agency_with_case(world)
        made = await register(world, ("cases:read",), admin=admin)  # type: ignore[arg-type]
        headers = await client_headers(world, made)

        listed = await world.client.get("/api/v1/cases", headers=headers)
        assert listed.status_code == 200, listed.text
        assert [c["id"] for c in listed.json()["items"]] == [case_id]
        read = await world.client.get(f"/api/v1/cases/{case_id}", headers=headers)
        assert read.status_code == 200, read.text

        # cases:write was not granted: the intake route is hidden (404) and audited.
        mark = await last_event_id(engine)
        create = await world.client.post("/api/v1/cases", json={}, headers=headers)
        assert_problem(create, 404)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["reason"], event["actor_type"]) == (
            "access.denied",
            "missing_permission:cases:write",
            "client",
        )
        assert str(event["actor_id"]) == made.client_id
        assert event["actor_role"] == "integration_client"
        # agencies:read was not granted either.
        assert_problem(await world.client.get("/api/v1/agencies", headers=headers), 403)
        # Nor identity reveal, which no client can hold.
        revealed = await world.client.get(
            f"/api/v1/cases/{case_id}?reveal=identity",
            headers={**headers, "X-Purpose-Of-Use": "case_management"},
        )
        assert revealed.status_code in (403, 404), revealed.text

    async def test_reads_are_audited_as_the_client(self, world: World, engine: AsyncEngine) -> None:
        admin, case_id = await _agency_with_case(world)
        made = await register(world, ("cases:read",), admin=admin)  # type: ignore[arg-type]
        headers = await client_headers(world, made)
        mark = await last_event_id(engine)
        assert (
            await world.client.get(f"/api/v1/cases/{case_id}", headers=headers)
        ).status_code == 200
        events = await events_after(engine, mark)
        assert events and all(e["actor_type"] == "client" for e in events)
        assert all(str(e["actor_id"]) == made.client_id for e in events)
        assert all(e["actor_agency_id"] == admin.agency.id for e in events)  # type: ignore[attr-defined]

    async def test_a_client_gets_no_identity_value_not_even_masked(self, world: World) -> None:
        admin, case_id = await _agency_with_case(world)
        made = await register(world, ("cases:read",), admin=admin)  # type: ignore[arg-type]
        headers = await client_headers(world, made)
        response = await world.client.get(f"/api/v1/cases/{case_id}", headers=headers)
        assert response.status_code == 200, response.text
        victim = response.json()["victim"]
        assert victim["revealed"] is False
        for field in ("full_name", "other_names", "date_of_birth", "national_id", "phone",
                      "address", "ethnicity"):  # fmt: skip
            assert victim[field] is None, field
        assert victim["sex"] is not None

    async def test_other_agencys_case_404(self, world: World, engine: AsyncEngine) -> None:
        _, foreign_case = await _agency_with_case(world)
        made = await register(world, ("cases:read",))
        headers = await client_headers(world, made)
        listed = await world.client.get("/api/v1/cases", headers=headers)
        assert listed.json()["items"] == []
        mark = await last_event_id(engine)
        assert_problem(
            await world.client.get(f"/api/v1/cases/{foreign_case}", headers=headers), 404
        )
        [event] = await events_after(engine, mark)
        assert (event["outcome"], event["reason"], event["actor_type"]) == (
            "denied",
            "out_of_reach",
            "client",
        )

    async def test_narrowed_token_has_only_the_narrowed_scopes(self, world: World) -> None:
        made = await register(world, ("cases:read", "agencies:read"))
        headers = await client_headers(world, made, scope="agencies:read")
        assert (await world.client.get("/api/v1/agencies", headers=headers)).status_code == 200
        assert_problem(await world.client.get("/api/v1/cases", headers=headers), 404)

    async def test_referral_scopes(self, world: World) -> None:
        app = world.client._transport.app  # type: ignore[attr-defined]
        if ("GET", "/api/v1/referrals") not in api_routes(app):
            pytest.skip("GET /api/v1/referrals is not built yet (referrals feature in progress)")
        cases_only = await register(world, ("cases:read",))
        headers = await client_headers(world, cases_only)
        response = await world.client.get("/api/v1/referrals", headers=headers)
        assert response.status_code in (403, 404), response.text
        readers = await register(world, ("referrals:read",))
        headers = await client_headers(world, readers)
        assert (await world.client.get("/api/v1/referrals", headers=headers)).status_code == 200


class TestNoAdministration:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/api/v1/users"),
            ("POST", "/api/v1/users"),
            ("POST", "/api/v1/agencies"),
            ("GET", CLIENTS),
            ("POST", CLIENTS),
            ("GET", "/api/v1/audit-events"),
            ("POST", "/api/v1/support-rates"),
            ("GET", "/api/v1/webhooks"),
        ],
    )
    async def test_client_with_every_scope_cannot_administer(
        self, world: World, method: str, path: str
    ) -> None:
        made = await register(world, ALL_SCOPES)
        headers = await client_headers(world, made)
        app = world.client._transport.app  # type: ignore[attr-defined]
        if (method, path) not in api_routes(app):
            pytest.skip(f"{method} {path} is not built yet")
        response = await world.client.request(method, path, json={}, headers=headers)
        assert response.status_code in (403, 404), response.text

    async def test_client_cannot_revoke_itself_or_read_clients(self, world: World) -> None:
        made = await register(world, ALL_SCOPES)
        headers = await client_headers(world, made)
        for method, url in (
            ("GET", f"{CLIENTS}/{made.client_id}"),
            ("POST", f"{CLIENTS}/{made.client_id}/revoke"),
        ):
            assert_problem(await world.client.request(method, url, headers=headers), 403)

    async def test_me_is_refused_clearly(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world)
        headers = await client_headers(world, made)
        mark = await last_event_id(engine)
        body = assert_problem(await world.client.get("/api/v1/auth/me", headers=headers), 403)
        assert "Integration clients" in str(body["detail"])
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"], event["actor_type"]) == (
            "user.read",
            "denied",
            "not_a_user",
            "client",
        )

    @pytest.mark.parametrize("role", [Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN])
    async def test_users_api_refuses_the_client_role(self, world: World, role: Role) -> None:
        admin = await world.user(
            role, await world.agency("national" if role is Role.SYSTEM_ADMIN else "social_affairs")
        )
        body = {
            "username": "tich.hop.test",
            "password": "a long enough passphrase",
            "full_name": "Ứng Dụng Thử",
            "role": "integration_client",
        }
        if role is Role.SYSTEM_ADMIN:
            body["agency_id"] = str((await world.agency()).id)
        response = await world.client.post("/api/v1/users", json=body, headers=admin.headers)
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["field"] == "role"  # type: ignore[index]


class TestRevocationIsImmediate:
    async def test_revoking_kills_the_live_token(self, world: World) -> None:
        made = await register(world)
        headers = await client_headers(world, made)
        assert (await world.client.get("/api/v1/cases", headers=headers)).status_code == 200
        revoke = f"{CLIENTS}/{made.client_id}/revoke"
        assert (await world.client.post(revoke, headers=made.admin.headers)).status_code == 200
        response = await world.client.get("/api/v1/cases", headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_disabling_the_agency_kills_the_live_token(self, world: World) -> None:
        made = await register(world)
        headers = await client_headers(world, made)
        agency = await world.session.get(Agency, made.admin.agency.id)
        assert agency is not None
        agency.is_active = False
        await world.session.commit()
        assert_problem(await world.client.get("/api/v1/cases", headers=headers), 401)
