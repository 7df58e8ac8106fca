"""POST /api/v1/auth/token with grant_type=client_credentials."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Agency
from app.security.tokens import TokenError, TokenService
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.integration_clients.helpers import (
    CLIENTS,
    TOKEN,
    basic,
    client_headers,
    client_token,
    register,
)


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


class TestClientCredentialsGrant:
    async def test_form_credentials(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world, ("cases:read", "referrals:read"))
        mark = await last_event_id(engine)
        response = await client_token(world, made.client_id, made.secret)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] > 0
        assert body["scope"] == "cases:read referrals:read"
        assert "refresh_token" not in body
        claims = _claims(body["access_token"])
        assert claims["sub"] == made.client_id == claims["client_id"]
        assert claims["act_type"] == "client" and "sid" not in claims
        assert claims["agency_id"] == str(made.admin.agency.id)
        [event] = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["actor_type"]) == (
            "auth.client_credentials",
            "success",
            "client",
        )
        assert str(event["actor_id"]) == made.client_id
        assert event["actor_agency_id"] == made.admin.agency.id
        assert event["actor_role"] == "integration_client"
        assert event["token_id"] == claims["jti"]
        listed = await world.client.get(f"{CLIENTS}/{made.client_id}", headers=made.admin.headers)
        assert listed.json()["last_used_at"] is not None

    async def test_basic_credentials(self, world: World) -> None:
        made = await register(world)
        response = await client_token(world, made.client_id, made.secret, use_basic=True)
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == "cases:read"

    async def test_both_methods_at_once_400(self, world: World) -> None:
        made = await register(world)
        response = await world.client.post(
            TOKEN,
            data={
                "grant_type": "client_credentials",
                "client_id": made.client_id,
                "client_secret": made.secret,
            },
            headers=basic(made.client_id, made.secret),
        )
        assert assert_problem(response, 400)["error"] == "invalid_request"

    async def test_malformed_basic_400(self, world: World) -> None:
        for value in ("Basic %%%", "Basic " + base64.b64encode(b"no-colon").decode()):
            response = await world.client.post(
                TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": value}
            )
            assert assert_problem(response, 400)["error"] == "invalid_request"

    async def test_wrong_secret_401_audited(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world)
        mark = await last_event_id(engine)
        for use_basic in (False, True):
            response = await client_token(
                world, made.client_id, made.secret + "x", use_basic=use_basic
            )
            body = assert_problem(response, 401)
            assert body["error"] == "invalid_client"
            assert response.headers["www-authenticate"].startswith("Basic")
            assert made.secret not in response.text
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("auth.client_credentials", "denied", "wrong_secret")
        ] * 2
        assert all(e["resource_id"] == made.client_id for e in events)
        assert all(e["actor_type"] == "anonymous" for e in events)

    async def test_unknown_client_401(self, world: World, engine: AsyncEngine) -> None:
        mark = await last_event_id(engine)
        for client_id in (str(uuid.uuid4()), "not-a-uuid"):
            response = await client_token(world, client_id, "vcmcs_guess")
            assert assert_problem(response, 401)["error"] == "invalid_client"
        events = await events_after(engine, mark)
        assert [e["reason"] for e in events] == ["unknown_client"] * 2
        assert all(e["resource_id"] is None for e in events)

    async def test_missing_credentials_401(self, world: World) -> None:
        response = await world.client.post(TOKEN, data={"grant_type": "client_credentials"})
        assert assert_problem(response, 401)["error"] == "invalid_client"
        response = await world.client.post(
            TOKEN, data={"grant_type": "client_credentials", "client_id": str(uuid.uuid4())}
        )
        assert_problem(response, 401)

    async def test_revoked_client_401(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world)
        revoke = f"{CLIENTS}/{made.client_id}/revoke"
        assert (await world.client.post(revoke, headers=made.admin.headers)).status_code == 200
        mark = await last_event_id(engine)
        response = await client_token(world, made.client_id, made.secret)
        assert assert_problem(response, 401)["error"] == "invalid_client"
        [event] = await events_after(engine, mark)
        assert event["reason"] == "client_revoked"

    async def test_disabled_agency_401(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world)
        agency = await world.session.get(Agency, made.admin.agency.id)
        assert agency is not None
        agency.is_active = False
        await world.session.commit()
        mark = await last_event_id(engine)
        assert_problem(await client_token(world, made.client_id, made.secret), 401)
        [event] = await events_after(engine, mark)
        assert event["reason"] == "agency_disabled"

    async def test_scope_narrowing(self, world: World) -> None:
        made = await register(world, ("cases:read", "referrals:read", "referrals:write"))
        response = await client_token(world, made.client_id, made.secret, scope="cases:read")
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == "cases:read"
        assert _claims(response.json()["access_token"])["scope"] == "cases:read"
        both = await client_token(
            world, made.client_id, made.secret, scope="referrals:read  cases:read"
        )
        assert both.json()["scope"] == "cases:read referrals:read"

    async def test_scope_widening_400(self, world: World, engine: AsyncEngine) -> None:
        made = await register(world)
        mark = await last_event_id(engine)
        for scope in ("cases:read cases:write", "users:manage", "referrals:read"):
            response = await client_token(world, made.client_id, made.secret, scope=scope)
            assert assert_problem(response, 400)["error"] == "invalid_scope"
        events = await events_after(engine, mark)
        assert [e["reason"] for e in events] == ["invalid_scope"] * 3

    async def test_failures_count_toward_the_lockout(self, world: World) -> None:
        made = await register(world)
        limit = world.client._transport.app.state.settings.login_max_failures  # type: ignore[attr-defined]
        for _ in range(limit):
            assert_problem(await client_token(world, made.client_id, "vcmcs_wrong"), 401)
        locked = await client_token(world, made.client_id, made.secret)
        assert_problem(locked, 429)
        assert int(locked.headers["retry-after"]) > 0

    async def test_client_token_cannot_refresh_or_log_out(self, world: World) -> None:
        made = await register(world)
        headers = await client_headers(world, made)
        response = await world.client.post("/api/v1/auth/logout", headers=headers)
        assert_problem(response, 403)
        # ...and the token still works: logout did not half-happen.
        assert (await world.client.get("/api/v1/cases", headers=headers)).status_code == 200


class TestClientTokenClaims:
    """A client token cannot pass for a user's, nor a user's for a client's."""

    def _service(self, world: World) -> TokenService:
        return world.client._transport.app.state.tokens  # type: ignore[attr-defined,no-any-return]

    async def test_round_trip(self, world: World) -> None:
        tokens = self._service(world)
        client_id, agency_id = uuid.uuid4(), uuid.uuid4()
        issued = tokens.issue_client_token(
            client_id=client_id,
            agency_id=agency_id,
            role="integration_client",
            scopes=frozenset({"cases:read"}),
        )
        claims = tokens.verify_access_token(issued.token)
        assert (claims.actor_type, claims.subject, claims.session_id) == ("client", client_id, None)
        assert claims.scopes == frozenset({"cases:read"})

    async def test_mixed_claims_rejected(self, world: World) -> None:
        tokens = self._service(world)
        signing = world.client._transport.app.state.keys.token_signing_key()  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        base = {
            "iss": tokens.issuer,
            "aud": tokens.audience,
            "sub": str(uuid.uuid4()),
            "jti": "j",
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(minutes=5),
            "role": "integration_client",
            "agency_id": str(uuid.uuid4()),
        }
        for extra in (
            # a client token that also names a login session
            {"act_type": "client", "client_id": base["sub"], "scope": "", "sid": base["sub"]},
            # a client token whose client_id is not its subject
            {"act_type": "client", "client_id": str(uuid.uuid4()), "scope": "cases:read"},
            # an unknown actor type
            {"act_type": "robot", "sid": str(uuid.uuid4())},
        ):
            token = jwt.encode(
                {**base, **extra},
                signing.private_key,
                algorithm="EdDSA",
                headers={"kid": signing.kid, "typ": "at+jwt"},
            )
            with pytest.raises(TokenError):
                tokens.verify_access_token(token)
