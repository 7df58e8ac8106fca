"""A request's driver statements borrow one pool connection until the ORM begins
(app/driver.py): the session's connection bookkeeping is skipped for a read, the lent
connection goes back before the ORM checks out its own (so a request never holds two),
and everything goes back at the end of the request (app/db.py `_end`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlmodel import col

from app import audit
from app.db import _end, make_sessionmaker
from app.driver import DriverStatement, lend_connections, reads_only, session_untouched
from app.errors import database_unavailable
from app.models import Agency
from tests.conftest import World

_AGENCY_CODE = DriverStatement(
    select(col(Agency.code)).where(col(Agency.id) == bindparam("agency_id"))
)


@pytest.fixture
async def one_connection(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """An engine whose pool holds exactly one connection: a request that held two
    would wait for itself and time out."""
    single = create_async_engine(engine.url, pool_size=1, max_overflow=0, pool_timeout=1)
    yield single
    await single.dispose()


def _request_session(engine: AsyncEngine) -> AsyncSession:
    session = make_sessionmaker(engine)()
    lend_connections(session)
    return session


def _checked_out(engine: AsyncEngine) -> int:
    return int(engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def test_a_read_borrows_one_connection_and_gives_it_back(
    one_connection: AsyncEngine, world: World
) -> None:
    agency = await world.agency()
    session = _request_session(one_connection)
    for _ in range(3):
        row = await _AGENCY_CODE.fetchrow(session, {"agency_id": agency.id})
        assert row is not None and row["code"] == agency.code
    assert _checked_out(one_connection) == 1  # one connection for all three
    assert session_untouched(session)  # the ORM never began: nothing to commit
    await _end(session, None)
    assert _checked_out(one_connection) == 0


async def test_the_lent_connection_goes_back_before_the_orm_checks_out(
    one_connection: AsyncEngine, world: World
) -> None:
    """With one connection in the pool, the ORM's checkout would time out if the
    driver statements still held theirs."""
    agency = await world.agency()
    session = _request_session(one_connection)
    await _AGENCY_CODE.fetchrow(session, {"agency_id": agency.id})
    found = await session.execute(text("SELECT code FROM agencies WHERE id = :i"), {"i": agency.id})
    assert found.scalar_one() == agency.code
    # Now the driver statements run on the session's connection, in its transaction.
    await audit.record(session, action="test.lent", resource_type="agency")
    await _end(session, RuntimeError("roll back"))
    assert _checked_out(one_connection) == 0
    async with one_connection.connect() as conn:
        rows = await conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'test.lent'")
        )
        assert rows.scalar_one() == 0  # it was in the transaction that rolled back


async def test_a_read_only_audit_row_on_the_lent_connection_commits(
    one_connection: AsyncEngine, clean_db: None
) -> None:
    session = _request_session(one_connection)
    reads_only(session)
    await audit.record(session, action="test.lent_read", resource_type="case")
    assert session_untouched(session)
    await _end(session, None)
    async with one_connection.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'test.lent_read'")
        )
        assert found.scalar_one() == 1


async def test_an_error_gives_the_lent_connection_back(
    one_connection: AsyncEngine, clean_db: None
) -> None:
    session = _request_session(one_connection)
    with pytest.raises(DBAPIError):
        await DriverStatement(select(text("1/0 AS x"))).fetch(session, {})
    await _end(session, RuntimeError("failed"))
    assert _checked_out(one_connection) == 0
    # The connection is usable by the next request.
    following = _request_session(one_connection)
    assert await _AGENCY_CODE.fetchrow(following, {"agency_id": uuid.uuid4()}) is None
    await _end(following, None)


async def test_no_database_to_borrow_from_is_an_outage(engine: AsyncEngine) -> None:
    nowhere = create_async_engine(
        engine.url.set(host="127.0.0.1", port=1), connect_args={"timeout": 2}
    )
    try:
        session = _request_session(nowhere)
        with pytest.raises(DBAPIError) as caught:
            await _AGENCY_CODE.fetchrow(session, {"agency_id": uuid.uuid4()})
        assert database_unavailable(caught.value)
        await _end(session, caught.value)
    finally:
        await nowhere.dispose()


async def test_waiting_too_long_for_a_connection_is_an_outage(
    one_connection: AsyncEngine, clean_db: None
) -> None:
    holder = await one_connection.connect()
    try:
        session = _request_session(one_connection)
        with pytest.raises(PoolTimeout) as caught:
            await _AGENCY_CODE.fetchrow(session, {"agency_id": uuid.uuid4()})
        assert database_unavailable(caught.value)  # 503, not 500
        await _end(session, caught.value)
    finally:
        await holder.close()


async def test_only_a_lending_session_may_borrow(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as plain:
        with pytest.raises(TypeError):
            lend_connections(plain)
