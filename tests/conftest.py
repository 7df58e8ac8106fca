"""Test harness: one throwaway embedded PostgreSQL per test session (or
`TEST_DATABASE_URL`), schema made by the real Alembic migrations, tables emptied
before each test that uses the database. Tests that need no database start none."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from faker import Faker
from fastapi import FastAPI
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app import migrate
from app.config import Settings
from app.db import make_engine, make_sessionmaker, metadata
from app.main import create_app
from app.models import Agency, User
from app.security import passwords
from app.security.passwords import hash_password
from app.security.permissions import Role

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

# Reference data made by migrations; everything else is emptied between tests. Of the
# report calendars only the seeded defaults (province NULL) stay.
REFERENCE_TABLES = {
    "provinces",
    "agency_kinds",
    "alembic_version",
    "report_calendars",
    "public_holidays",
}

fake = Faker("vi_VN")

# Tests make many users and logins; argon2 at production cost would dominate the run
# time and is not what they test. `@pytest.mark.real_password_cost` opts out (the test
# that pins the production parameters does).
_CHEAP_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_password_cost") is None:
        monkeypatch.setattr(passwords, "_hasher", _CHEAP_HASHER)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object | None]:
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    from app.embedded import EmbeddedPostgres

    # Not under pytest's basetemp: pytest resets /tmp/pytest-of-<user> to 0700 whenever
    # another pytest process starts, which locks out the server's own OS user.
    folder = Path(tempfile.mkdtemp(prefix="vcm-test-pg-"))
    server = EmbeddedPostgres(folder, delete_on_stop=True)
    _without_durability(server.start("postgres"))
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def _autocommit(url: str, *statements: str) -> None:
    """Run `statements` one by one outside any transaction (server-level commands)."""
    import asyncio

    async def run() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


def _without_durability(url: str) -> None:
    """The throwaway test cluster skips fsync and waits for no WAL flush: the suite
    tests what is committed and seen, never a crash of the machine. Once, with the disk
    busy (the embedded-server tests had just made and killed clusters of their own), a
    DROP DATABASE here outlasted the 30 s statement timeout."""
    _autocommit(
        url,
        *(
            f"ALTER SYSTEM SET {s} = off"
            for s in ("fsync", "synchronous_commit", "full_page_writes")
        ),
        "SELECT pg_reload_conf()",
    )


@pytest.fixture(scope="session")
def database_url(pg_server: object | None) -> str:
    if pg_server is None:
        url = os.environ["TEST_DATABASE_URL"]
    else:
        url = pg_server.create_database("vcm_test")  # type: ignore[attr-defined]
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        VCM_DATA_DIR=data_dir,
        # httpx's ASGI transport calls from 127.0.0.1: that peer is the trusted proxy,
        # so the tests' X-Forwarded-For names the client.
        VCM_TRUSTED_PROXIES="127.0.0.1/32",
        VCM_ENV="dev",
        # Tests seal on demand (`app.audit.chain.seal`), so chains are deterministic.
        VCM_AUDIT_SEAL_INTERVAL=0,
        # Tests deliver webhooks on demand (`app.services.webhooks.delivery.run_once`).
        VCM_WEBHOOK_DELIVERY_INTERVAL=0,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def engine(app: FastAPI) -> AsyncEngine:
    return app.state.engine  # type: ignore[no-any-return]


@pytest.fixture
async def clean_db(engine: AsyncEngine) -> None:
    tables = [t.name for t in metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    async with engine.begin() as conn:
        # The audit tables refuse TRUNCATE by trigger; as the superuser the tests run
        # as, replica mode skips triggers for this one transaction.
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        await conn.execute(text("DELETE FROM report_calendars WHERE province_code IS NOT NULL"))


@pytest.fixture
async def session(engine: AsyncEngine, clean_db: None) -> AsyncIterator[AsyncSession]:
    """A session for arranging and inspecting data; commit what the API must see."""
    async with make_sessionmaker(engine)() as s:
        yield s


@pytest.fixture
async def client(app: FastAPI, clean_db: None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def english(client: httpx.AsyncClient) -> None:
    """The test client asks for English problem messages (Vietnamese is the default):
    for tests that assert the English text (`pytestmark = pytest.mark.usefixtures(
    "english")`)."""
    client.headers["Accept-Language"] = "en"


@dataclass
class Actor:
    user: User
    password: str
    agency: Agency
    headers: dict[str, str]

    @property
    def id(self) -> uuid.UUID:
        return self.user.id


class World:
    """Factories for agencies and users, and a login helper."""

    def __init__(self, session: AsyncSession, client: httpx.AsyncClient) -> None:
        self.session = session
        self.client = client

    async def agency(
        self,
        kind: str = "social_affairs",
        province_code: str | None = "40",
        code: str | None = None,
    ) -> Agency:
        agency = Agency(
            code=code or f"T-{uuid.uuid4().hex[:8].upper()}",
            name=f"{fake.company()} (test)",
            kind=kind,
            province_code=province_code if kind not in ("national", "hotline") else None,
        )
        self.session.add(agency)
        await self.session.commit()
        return agency

    async def user(self, role: Role, agency: Agency | None = None, *, login: bool = True) -> Actor:
        agency = agency or await self.agency()
        password = f"pw-{uuid.uuid4().hex}"
        user = User(
            username=f"u{uuid.uuid4().hex[:12]}",
            password_hash=hash_password(password),
            full_name=fake.name(),
            role=role.value,
            agency_id=agency.id,
        )
        self.session.add(user)
        await self.session.commit()
        headers = await self.login(user.username, password) if login else {}
        return Actor(user=user, password=password, agency=agency, headers=headers)

    async def login(self, username: str, password: str) -> dict[str, str]:
        response = await self.token(username, password)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def token(
        self, username: str, password: str, address: str = "10.0.0.1"
    ) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
            headers={"X-Forwarded-For": address},
        )


@pytest.fixture
async def world(session: AsyncSession, client: httpx.AsyncClient) -> World:
    return World(session, client)


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    for key in ("type", "title", "detail", "instance"):
        assert key in body, key
    assert str(body["type"]).startswith("https://")
    return body  # type: ignore[no-any-return]


def fresh_database(database_url: str, name: str) -> str:
    """Create (or re-create) an empty database beside the test one; returns its URL."""
    from sqlalchemy.engine import make_url

    _autocommit(
        database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)
