"""OWASP API2:2023 broken authentication, on every route that needs a caller.

tests/api/test_auth.py pins each token check on `/auth/me`; here every bad token is
tried on every authenticated route the app has, so no route (a new one included) can
sit behind a weaker check. Each answer is 401 problem+json with a Bearer challenge.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.security.permissions import Role
from tests.conftest import World, assert_problem
from tests.routes import api_routes

# Routes anyone may call; every other route must refuse a caller it cannot verify.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/api/v1/auth/token"),
}
ROUTES = sorted(
    r
    for r in api_routes(create_app(Settings(VCM_ENV="dev")))
    if r not in PUBLIC  # type: ignore[call-arg]
)


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, default=str).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Forger:
    """Tokens for a real, active user, each wrong in exactly one way."""

    def __init__(self, app: FastAPI, good: str, refresh: str) -> None:
        self.app, self.good, self.refresh = app, good, refresh
        self.key = app.state.keys.token_signing_key()

    def claims(self, **changes: object) -> dict[str, object]:
        now = datetime.now(UTC)
        claims = {
            **jwt.decode(self.good, options={"verify_signature": False}),
            "iat": now, "nbf": now, "exp": now + timedelta(minutes=5),
        }  # fmt: skip
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict[str, object], key: object = None, alg: str = "EdDSA") -> str:
        headers = {"kid": self.key.kid, "typ": "at+jwt"}
        return jwt.encode(claims, key or self.key.private_key, algorithm=alg, headers=headers)

    def hs256_with_public_key(self) -> str:
        public = self.app.state.tokens.jwks()["keys"][0]["x"].encode()
        return self.sign(self.claims(), key=public, alg="HS256")


past = datetime.now(UTC) - timedelta(hours=2)
BAD_TOKENS: dict[str, Callable[[Forger], str]] = {
    "foreign_key": lambda f: f.sign(f.claims(), key=Ed25519PrivateKey.generate()),
    "expired": lambda f: f.sign(f.claims(iat=past, nbf=past, exp=past + timedelta(minutes=15))),
    "alg_none": lambda f: f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(f.claims())}.",
    "hs256_public_key": lambda f: f.hs256_with_public_key(),
    "wrong_audience": lambda f: f.sign(f.claims(aud="https://other.example")),
    "wrong_issuer": lambda f: f.sign(f.claims(iss="https://evil.example")),
    "missing_exp": lambda f: f.sign(f.claims(exp=None)),
    "unknown_session": lambda f: f.sign(f.claims(sid=str(uuid.uuid4()))),
    "refresh_token": lambda f: f.refresh,
    "garbage": lambda f: "not.a.jwt",
    "empty_bearer": lambda f: "",
}


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


def test_every_route_but_the_public_ones_is_checked() -> None:
    assert len(ROUTES) >= 40


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
async def test_bad_token_is_401_everywhere(app: FastAPI, world: World, kind: str) -> None:
    # A system administrator: the token must fail whatever the role would allow.
    admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"), login=False)
    login = (await world.token(admin.user.username, admin.password)).json()
    token = BAD_TOKENS[kind](Forger(app, login["access_token"], login["refresh_token"]))
    refused = []
    for method, path in ROUTES:
        response = await world.client.request(
            method, _url(path), headers={"Authorization": f"Bearer {token}"}
        )
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code != 401 or not challenge.startswith("Bearer"):
            refused.append(f"{method} {path}: {response.status_code}")
        else:
            assert_problem(response, 401)
    assert not refused, f"{kind} token not refused with 401: {refused}"


async def test_no_token_is_401_everywhere(world: World) -> None:
    wrong = []
    for method, path in ROUTES:
        response = await world.client.request(method, _url(path))
        if response.status_code != 401 or "www-authenticate" not in response.headers:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert not wrong, wrong


async def test_good_token_passes(app: FastAPI, world: World) -> None:
    """The control: the forger's untouched claims, signed with the real key, work."""
    actor = await world.user(Role.CASE_WORKER, login=False)
    login = (await world.token(actor.user.username, actor.password)).json()
    forger = Forger(app, login["access_token"], login["refresh_token"])
    response = await world.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {forger.sign(forger.claims())}"}
    )
    assert response.status_code == 200, response.text
