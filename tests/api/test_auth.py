"""POST /api/v1/auth/token, logout, me, JWKS: token checks, refresh families, lockout."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy import select, update

from app.models import LoginFailure, User
from app.security.permissions import Role
from tests.conftest import Actor, World, assert_problem


def _claims(app: FastAPI, actor: Actor, **overrides: object) -> dict[str, object]:
    settings = app.state.settings
    now = datetime.now(UTC)
    good = jwt.decode(
        actor.headers["Authorization"].split()[1], options={"verify_signature": False}
    )
    claims: dict[str, object] = {
        **good,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return claims


def _sign(app: FastAPI, claims: dict[str, object], **header: str) -> str:
    key = app.state.keys.token_signing_key()
    headers = {"kid": key.kid, "typ": "at+jwt", **header}
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers=headers)


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, default=str).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


class TestPasswordGrant:
    async def test_issues_short_lived_eddsa_token_with_kid(
        self, app: FastAPI, world: World
    ) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        response = await world.token(actor.user.username, actor.password)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "bearer"
        assert 0 < body["expires_in"] <= 900
        assert body["refresh_token"]
        header = jwt.get_unverified_header(body["access_token"])
        assert header["alg"] == "EdDSA"
        assert header["typ"] == "at+jwt"
        jwks = (await world.client.get("/.well-known/jwks.json")).json()
        key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        public = jwt.PyJWK(key).key
        claims = jwt.decode(
            body["access_token"],
            public,
            algorithms=["EdDSA"],
            audience=app.state.settings.jwt_audience,
        )
        assert claims["exp"] - claims["iat"] <= 900
        assert claims["sub"] == str(actor.id)

    async def test_unknown_user_and_wrong_password_answer_the_same(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        wrong = await world.token(actor.user.username, "not-the-password")
        unknown = await world.token("nobody-here", "not-the-password")
        a, b = assert_problem(wrong, 401), assert_problem(unknown, 401)
        assert a["type"] == b["type"] and a["title"] == b["title"] and a["detail"] == b["detail"]

    async def test_username_is_case_insensitive(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        response = await world.token(actor.user.username.upper(), actor.password)
        assert response.status_code == 200

    async def test_unsupported_grant_and_missing_fields(self, world: World) -> None:
        r = await world.client.post("/api/v1/auth/token", data={"grant_type": "implicit"})
        assert assert_problem(r, 400)["error"] == "unsupported_grant_type"
        r = await world.client.post("/api/v1/auth/token", data={"grant_type": "password"})
        assert_problem(r, 400)
        r = await world.client.post("/api/v1/auth/token", data={})
        assert_problem(r, 422)

    async def test_disabled_user_cannot_log_in(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        actor.user.is_active = False
        world.session.add(actor.user)
        await world.session.commit()
        assert_problem(await world.token(actor.user.username, actor.password), 401)


class TestAccessTokenChecks:
    async def test_missing_token_is_401_with_challenge(self, world: World) -> None:
        response = await world.client.get("/api/v1/auth/me")
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_valid_forged_by_us_passes(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        assert (await _me(world.client, _sign(app, _claims(app, actor)))).status_code == 200

    async def test_none_algorithm(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        claims = _claims(app, actor)
        token = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(claims)}."
        assert_problem(await _me(world.client, token), 401)

    async def test_hs256_with_public_key_as_secret(self, app: FastAPI, world: World) -> None:
        # The classic algorithm-confusion attack: HMAC keyed with the published key.
        actor = await world.user(Role.CASE_WORKER)
        jwks = (await world.client.get("/.well-known/jwks.json")).json()
        secret = jwks["keys"][0]["x"].encode()
        token = jwt.encode(
            _claims(app, actor),
            secret,
            algorithm="HS256",
            headers={"kid": jwks["keys"][0]["kid"], "typ": "at+jwt"},
        )
        assert_problem(await _me(world.client, token), 401)

    async def test_wrong_key(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        kid = app.state.keys.token_signing_key().kid
        token = jwt.encode(
            _claims(app, actor),
            Ed25519PrivateKey.generate(),
            algorithm="EdDSA",
            headers={"kid": kid, "typ": "at+jwt"},
        )
        assert_problem(await _me(world.client, token), 401)

    async def test_unknown_kid(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        token = _sign(app, _claims(app, actor), kid="not-a-key")
        assert_problem(await _me(world.client, token), 401)

    async def test_expired(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        past = datetime.now(UTC) - timedelta(hours=1)
        token = _sign(
            app, _claims(app, actor, iat=past, nbf=past, exp=past + timedelta(minutes=15))
        )
        body = assert_problem(await _me(world.client, token), 401)
        assert "hết hạn" in str(body["detail"])  # "expired": Vietnamese by default

    async def test_not_yet_valid(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        future = datetime.now(UTC) + timedelta(hours=1)
        token = _sign(app, _claims(app, actor, nbf=future, exp=future + timedelta(minutes=5)))
        assert_problem(await _me(world.client, token), 401)

    async def test_wrong_audience_and_issuer(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        assert_problem(await _me(world.client, _sign(app, _claims(app, actor, aud="other"))), 401)
        assert_problem(await _me(world.client, _sign(app, _claims(app, actor, iss="evil"))), 401)

    async def test_wrong_type_header(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        token = _sign(app, _claims(app, actor), typ="JWT")
        assert_problem(await _me(world.client, token), 401)

    async def test_tampered_payload(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        other = await world.user(Role.SYSTEM_ADMIN)
        header, _, signature = actor.headers["Authorization"].split()[1].split(".")
        claims = _claims(app, actor, sub=str(other.id), role="system_admin")
        token = f"{header}.{_b64(claims)}.{signature}"
        assert_problem(await _me(world.client, token), 401)

    async def test_missing_session_claim(self, app: FastAPI, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        claims = _claims(app, actor)
        del claims["sid"]
        assert_problem(await _me(world.client, _sign(app, claims)), 401)

    async def test_disabling_user_ends_access_at_once(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        assert (await world.client.get("/api/v1/auth/me", headers=actor.headers)).status_code == 200
        await world.session.execute(
            update(User).where(User.id == actor.id).values(is_active=False)  # type: ignore[arg-type]
        )
        await world.session.commit()
        assert_problem(await world.client.get("/api/v1/auth/me", headers=actor.headers), 401)


class TestRefreshAndLogout:
    async def _pair(self, world: World) -> tuple[Actor, dict[str, object]]:
        actor = await world.user(Role.CASE_WORKER, login=False)
        response = await world.token(actor.user.username, actor.password)
        return actor, response.json()

    async def _refresh(self, world: World, token: object) -> httpx.Response:
        return await world.client.post(
            "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
        )

    async def test_rotation_issues_new_single_use_token(self, world: World) -> None:
        _, first = await self._pair(world)
        second = await self._refresh(world, first["refresh_token"])
        assert second.status_code == 200
        assert second.json()["refresh_token"] != first["refresh_token"]
        third = await self._refresh(world, second.json()["refresh_token"])
        assert third.status_code == 200

    async def test_reuse_revokes_the_whole_family(self, world: World) -> None:
        _, first = await self._pair(world)
        second = (await self._refresh(world, first["refresh_token"])).json()
        reuse = await self._refresh(world, first["refresh_token"])
        assert assert_problem(reuse, 400)["type"].endswith("invalid-grant")  # type: ignore[union-attr]
        # The thief's or the victim's newer token is dead too, and so are access tokens.
        assert_problem(await self._refresh(world, second["refresh_token"]), 400)
        assert_problem(await _me(world.client, str(second["access_token"])), 401)
        assert_problem(await _me(world.client, str(first["access_token"])), 401)

    async def test_unknown_refresh_token(self, world: World) -> None:
        assert_problem(await self._refresh(world, "made-up"), 400)

    async def test_refresh_tokens_are_stored_hashed(self, world: World) -> None:
        _, first = await self._pair(world)
        from app.models import RefreshToken

        stored = (await world.session.execute(select(RefreshToken.token_hash))).scalars().all()
        assert stored and all(len(h) == 32 for h in stored)
        assert str(first["refresh_token"]).encode() not in stored

    async def test_logout_revokes_access_and_refresh(self, world: World) -> None:
        _, pair = await self._pair(world)
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        assert (await world.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
        assert_problem(await world.client.get("/api/v1/auth/me", headers=headers), 401)
        assert_problem(await self._refresh(world, pair["refresh_token"]), 400)

    async def test_disabled_user_cannot_refresh(self, world: World) -> None:
        actor, pair = await self._pair(world)
        actor.user.is_active = False
        world.session.add(actor.user)
        await world.session.commit()
        assert_problem(await self._refresh(world, pair["refresh_token"]), 400)


class TestLockout:
    """Failed sign-ins throttle the address, never the account (the whole rule with
    its denial-of-service tests: tests/security/test_login_throttle.py)."""

    async def test_five_failures_throttle_the_address_with_retry_after(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        for _ in range(5):
            assert_problem(await world.token(actor.user.username, "wrong-password"), 401)
        locked = await world.token(actor.user.username, actor.password)
        assert_problem(locked, 429)
        retry_after = int(locked.headers["retry-after"])
        assert 0 < retry_after <= 900
        # The delay is that address's: the owner elsewhere signs in.
        assert (
            await world.token(actor.user.username, actor.password, "10.9.9.9")
        ).status_code == 200
        # Failures are rows in PostgreSQL (so every worker sees them).
        count = (
            await world.session.execute(
                select(LoginFailure).where(LoginFailure.username == actor.user.username)  # type: ignore[arg-type]
            )
        ).all()
        assert len(count) == 5

    async def test_lock_expires_with_the_window(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        old = datetime.now(UTC) - timedelta(minutes=16)
        for _ in range(5):
            world.session.add(
                LoginFailure(username=actor.user.username, client_address="10.0.0.1", failed_at=old)
            )
        await world.session.commit()
        assert (await world.token(actor.user.username, actor.password)).status_code == 200

    async def test_success_before_the_limit_resets_the_count(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        for _ in range(4):
            await world.token(actor.user.username, "wrong-password")
        assert (await world.token(actor.user.username, actor.password)).status_code == 200
        for _ in range(4):
            await world.token(actor.user.username, "wrong-password")
        assert (await world.token(actor.user.username, actor.password)).status_code == 200

    async def test_per_address_limit_across_accounts(self, app: FastAPI, world: World) -> None:
        limit = app.state.settings.login_max_failures_per_address
        for i in range(limit):
            await world.token(f"sprayed-{i}", "wrong-password", "10.6.6.6")
        actor = await world.user(Role.CASE_WORKER, login=False)
        assert_problem(await world.token(actor.user.username, actor.password, "10.6.6.6"), 429)
        assert (
            await world.token(actor.user.username, actor.password, "10.7.7.7")
        ).status_code == 200


async def test_jwks_publishes_public_keys_only(world: World) -> None:
    body = (await world.client.get("/.well-known/jwks.json")).json()
    assert body["keys"]
    for key in body["keys"]:
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA"
        assert "d" not in key
