"""Database outage: with PostgreSQL unreachable the service answers 503 problem+json with
Retry-After within 5 seconds (never a 500, never a hang), and /ready says not ready.

The app here points at a closed port (the shared test server is never stopped); the
full stop-and-restart drill against a real server is bench/faults.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.db import make_engine
from app.errors import database_unavailable
from app.main import create_app
from tests.conftest import assert_problem

# Port 1 (tcpmux) is never served on these machines: connections are refused at once.
CLOSED_URL = "postgresql+asyncpg://vcm:not-a-secret@127.0.0.1:1/vcm"
BUDGET_SECONDS = 5.0


@pytest.fixture
async def down_app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(
        DATABASE_URL=CLOSED_URL,
        VCM_DATA_DIR=tmp_path,
        VCM_ENV="dev",
        VCM_AUDIT_SEAL_INTERVAL=0,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def down_client(down_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=down_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _bearer(app: FastAPI) -> dict[str, str]:
    """A validly signed token: authentication gets as far as the database lookup."""
    issued = app.state.tokens.issue_access_token(
        user_id=uuid.uuid4(), session_id=uuid.uuid4(), role="case_worker", agency_id=uuid.uuid4()
    )
    return {"Authorization": f"Bearer {issued.token}"}


async def _timed(client: httpx.AsyncClient, method: str, url: str, **kw: object) -> httpx.Response:
    started = time.perf_counter()
    response = await client.request(method, url, **kw)  # type: ignore[arg-type]
    assert time.perf_counter() - started < BUDGET_SECONDS
    return response


class TestDatabaseDown:
    async def test_authenticated_read_answers_503_problem(
        self, down_app: FastAPI, down_client: httpx.AsyncClient
    ) -> None:
        response = await _timed(down_client, "GET", "/api/v1/cases", headers=_bearer(down_app))
        body = assert_problem(response, 503)
        assert str(body["type"]).endswith("/service-unavailable")
        assert response.headers["Retry-After"].isdigit()

    async def test_write_answers_503_problem(
        self, down_app: FastAPI, down_client: httpx.AsyncClient
    ) -> None:
        response = await _timed(
            down_client,
            "POST",
            "/api/v1/cases",
            headers=_bearer(down_app),
            json={"intake_source": "police"},
        )
        # Validation may answer first (422); otherwise the database outage does (503).
        assert response.status_code in (422, 503)
        if response.status_code == 503:
            assert_problem(response, 503)

    async def test_login_answers_503_problem(self, down_client: httpx.AsyncClient) -> None:
        response = await _timed(
            down_client,
            "POST",
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "nobody", "password": "irrelevant-1"},
        )
        assert_problem(response, 503)
        assert "Retry-After" in response.headers

    async def test_ready_answers_503(self, down_client: httpx.AsyncClient) -> None:
        response = await _timed(down_client, "GET", "/ready")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "unreachable"

    async def test_health_still_answers(self, down_client: httpx.AsyncClient) -> None:
        response = await _timed(down_client, "GET", "/health")
        assert response.status_code == 200


class TestPoolRecovers:
    async def test_connection_closed_by_the_server_is_replaced_at_checkout(
        self, database_url: str
    ) -> None:
        """What a PostgreSQL restart does to every pooled connection: the next use of
        the pool gets a fresh connection instead of an error."""
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                old_pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            killer = await asyncpg.connect(database_url.replace("+asyncpg", ""))
            try:
                await killer.execute("SELECT pg_terminate_backend($1)", old_pid)
            finally:
                await killer.close()
            await asyncio.sleep(0.2)  # the pooled connection reads the end of stream
            async with engine.connect() as conn:
                new_pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert new_pid != old_pid
        finally:
            await engine.dispose()


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("57P03", True),  # the database system is shutting down / starting up
        ("57P01", True),  # terminating connection due to administrator command
        ("08003", True),  # connection does not exist
        ("53300", True),  # too many connections
        ("23505", False),  # unique violation: a real error, not an outage
        ("42P01", False),  # undefined table
    ],
)
def test_outage_sqlstates_are_unavailable(sqlstate: str, unavailable: bool) -> None:
    """SQLAlchemy maps some outage errors to a plain DBAPIError; they are still 503."""
    exc = DBAPIError("SELECT 1", None, _DriverError(sqlstate))
    assert database_unavailable(exc) is unavailable
