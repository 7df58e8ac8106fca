"""OWASP API8:2023 security misconfiguration.

Production serves no interactive docs or schema, nor metrics without a token holding
`metrics:read`, refuses a default database password however the URL spells it, CORS
answers only the listed origins, and every answer, errors included, carries the
security headers (MIME sniffing off, never cached, no referrer, not framable, HTTPS
only).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.security.keyring import generate_keyring
from app.security.permissions import Role
from tests.conftest import World, assert_problem
from tests.integration_clients.helpers import client_headers, register
from tests.routes import api_routes

ALLOWED_ORIGIN = "https://vcm.example.gov.vn"


@pytest.fixture
async def production(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The production app's front (no lifespan: these answers need no database)."""
    ring = tmp_path / "secrets" / "keyring.json"
    ring.parent.mkdir()
    generate_keyring(ring, dev=False)
    settings = Settings(  # type: ignore[call-arg]
        VCM_ENV="production",
        VCM_DATA_DIR=tmp_path / "data",
        VCM_KEYRING=ring,
        DATABASE_URL="postgresql+asyncpg://vcm:Str0ng-and-l0ng@db.internal/vcm",
        VCM_CORS_ORIGINS=ALLOWED_ORIGIN,
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="https://api.example") as c:
        yield c


def assert_security_headers(response: httpx.Response) -> None:
    h = response.headers
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("cache-control") == "no-store", where
    assert h.get("referrer-policy") == "no-referrer", where
    assert h.get("x-frame-options") == "DENY", where
    assert "frame-ancestors 'none'" in h.get("content-security-policy", ""), where
    assert h.get("strict-transport-security", "").startswith("max-age="), where
    assert "x-request-id" in h, where


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"])
async def test_production_serves_no_docs(production: httpx.AsyncClient, path: str) -> None:
    response = await production.get(path)
    assert response.status_code == 404
    assert_security_headers(response)


async def test_cors_preflight_from_an_unlisted_origin_is_not_allowed(
    production: httpx.AsyncClient,
) -> None:
    response = await production.options(
        "/api/v1/cases",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers
    simple = await production.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_allows_the_listed_origin_only_as_itself(
    production: httpx.AsyncClient,
) -> None:
    response = await production.options(
        "/api/v1/cases",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers.get("access-control-allow-credentials") != "true"
    refused = await production.options(
        "/api/v1/cases",
        headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "PUT"},
    )
    assert refused.status_code == 400


async def test_production_answers_carry_security_headers(production: httpx.AsyncClient) -> None:
    for path in ("/health", "/no-such-route", "/docs"):
        assert_security_headers(await production.get(path))


async def test_every_route_answers_with_security_headers(world: World) -> None:
    """Every route of the dev app, called without a token (401s, and 200 for the public
    ones), plus a 404, a 405 and a 422."""
    app = create_app(Settings(VCM_ENV="dev"))  # type: ignore[call-arg]
    for method, path in sorted(api_routes(app)):
        url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
        assert_security_headers(await world.client.request(method, url))
    assert_security_headers(await world.client.get("/nowhere"))
    assert_security_headers(await world.client.delete("/health"))
    assert_security_headers(await world.client.post("/api/v1/auth/token", data={}))


@pytest.mark.parametrize(
    "url",
    [
        # A Unix socket in the query once skipped the check: postgres:postgres started.
        "postgresql+asyncpg://postgres:postgres@/vcm?host=/tmp",
        "postgresql+asyncpg://postgres:postgres@localhost/vcm?host=/var/run/postgresql",
        "postgresql+asyncpg://vcm@db.internal/vcm?password=changeme",
        "postgresql+asyncpg://vcm:Postgres@db.internal/vcm",
    ],
)
def test_production_refuses_a_default_database_password_however_spelled(
    tmp_path: Path, url: str
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        VCM_ENV="production", VCM_DATA_DIR=tmp_path / "data", DATABASE_URL=url
    )
    assert "DATABASE_URL uses a default or empty password." in settings.production_problems()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://vcm:Str0ng-and-l0ng@db.internal/vcm",
        # Peer authentication over a Unix socket needs no password at all.
        "postgresql+asyncpg://vcm@/vcm?host=/var/run/postgresql",
    ],
)
def test_production_accepts_a_real_secret_or_peer_authentication(tmp_path: Path, url: str) -> None:
    settings = Settings(  # type: ignore[call-arg]
        VCM_ENV="production", VCM_DATA_DIR=tmp_path / "data", DATABASE_URL=url
    )
    assert not [p for p in settings.production_problems() if "DATABASE_URL" in p]


async def test_production_metrics_need_a_metrics_token(production: httpx.AsyncClient) -> None:
    """In production /metrics answers only a bearer token with the `metrics:read` scope
    (an integration client's, which Prometheus fetches with its oauth2 settings)."""
    anonymous = await production.get("/metrics")
    assert anonymous.status_code == 401
    assert "vcm_http_requests_total" not in anonymous.text
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


async def test_production_metrics_answer_the_metrics_scope_only(
    app: FastAPI, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    scraper = await register(world, ("metrics:read",))
    other = await register(world, ("cases:read",))
    user = await world.user(Role.SUPERVISOR)
    monkeypatch.setattr(app.state.settings, "env", "production")
    answered = await world.client.get("/metrics", headers=await client_headers(world, scraper))
    assert answered.status_code == 200
    assert "vcm_http_requests_total" in answered.text
    for headers in (await client_headers(world, other), user.headers):
        refused = await world.client.get("/metrics", headers=headers)
        assert_problem(refused, 403)
    assert_problem(await world.client.get("/metrics"), 401)
    monkeypatch.setattr(app.state.settings, "env", "dev")
    assert (await world.client.get("/metrics")).status_code == 200
