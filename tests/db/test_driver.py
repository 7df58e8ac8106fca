"""Statements on the driver (app/driver.py): the same transaction as the session once
it has begun, on their own before that only for a request that only reads, and
driver errors surfacing as the session's would (503 for a lost database)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from app import audit
from app.db import make_sessionmaker
from app.driver import DriverStatement, _wrapped, in_transaction, reads_only
from app.errors import ServiceUnavailable, database_unavailable
from app.models import Agency
from tests.conftest import World

_AGENCY_CODE = DriverStatement(
    select(col(Agency.code)).where(col(Agency.id) == bindparam("agency_id"))
)


async def _audit_rows(engine: AsyncEngine, action: str) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = :a"), {"a": action}
        )
        return int(found.scalar_one())


async def test_audit_row_before_any_work_joins_the_transaction(
    engine: AsyncEngine, clean_db: None
) -> None:
    """A request that writes: the audit row recorded first still rolls back with it."""
    async with make_sessionmaker(engine)() as session:
        await audit.record(session, action="test.first", resource_type="case")
        assert await in_transaction(session)
        await session.rollback()
    assert await _audit_rows(engine, "test.first") == 0


async def test_audit_row_inside_the_transaction_rolls_back_with_it(
    engine: AsyncEngine, clean_db: None
) -> None:
    async with make_sessionmaker(engine)() as session:
        await session.execute(text("SELECT 1"))  # the session's transaction begins
        await audit.record(session, action="test.inside", resource_type="case")
        await session.rollback()
    assert await _audit_rows(engine, "test.inside") == 0


async def test_a_read_only_request_commits_its_audit_row_on_its_own(
    engine: AsyncEngine, clean_db: None
) -> None:
    async with make_sessionmaker(engine)() as session:
        reads_only(session)
        await audit.record(session, action="test.read", resource_type="case")
        assert not await in_transaction(session)  # no BEGIN/COMMIT round trips
        await session.rollback()  # nothing to roll back: the row is kept
    assert await _audit_rows(engine, "test.read") == 1


async def test_driver_select_reads_committed_rows(engine: AsyncEngine, world: World) -> None:
    agency = await world.agency()
    async with make_sessionmaker(engine)() as session:
        row = await _AGENCY_CODE.fetchrow(session, {"agency_id": agency.id})
        assert row is not None and row["code"] == agency.code
        assert await _AGENCY_CODE.fetchrow(session, {"agency_id": uuid.uuid4()}) is None


async def test_driver_errors_are_the_sessions_errors(engine: AsyncEngine, clean_db: None) -> None:
    broken = DriverStatement(select(text("1/0 AS x")))
    async with make_sessionmaker(engine)() as session:
        with pytest.raises(DBAPIError) as caught:
            await broken.fetch(session, {})
        assert not database_unavailable(caught.value)  # a bad statement is not an outage


async def test_a_lost_connection_is_an_outage(engine: AsyncEngine, clean_db: None) -> None:
    async with make_sessionmaker(engine)() as session:
        reads_only(session)  # every statement below runs on the driver
        connection = await session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        # The server ends this session, as a restart or failover would.
        async with engine.connect() as other:
            pid = await raw.fetchval("SELECT pg_backend_pid()")
            await other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(ServiceUnavailable):
            await audit.record(session, action="test.lost", resource_type="case")
        with pytest.raises(DBAPIError) as caught:
            await _AGENCY_CODE.fetch(session, {"agency_id": uuid.uuid4()})
        assert database_unavailable(caught.value)
        await session.invalidate()


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (asyncpg.exceptions.AdminShutdownError("shutting down"), True),  # 57P01
        (asyncpg.exceptions.CannotConnectNowError("starting up"), True),  # 57P03
        (asyncpg.exceptions.TooManyConnectionsError("full"), True),  # 53300
        (asyncpg.exceptions.DivisionByZeroError("1/0"), False),
        (asyncpg.exceptions.UniqueViolationError("duplicate"), False),
        (asyncpg.InterfaceError("connection is closed"), True),
        (asyncpg.InternalClientError("another operation is in progress"), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_driver_errors_classified_like_the_sessions(error: BaseException, outage: bool) -> None:
    assert database_unavailable(_wrapped("SELECT 1", error)) is outage
