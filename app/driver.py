"""The hot statements, run on the driver: compiled once, executed on the session's own
connection.

Every request checks its principal and writes an audit row, and a case read selects
the case with its persons: through the ORM session each of those costs about 0.35 ms
of CPU (execution context, cache lookup, result processing), through asyncpg about
0.08 ms (measured on the case read statement). `DriverStatement` keeps the statement
a SQLAlchemy construct, written once with the models' columns, compiles it once for
the dialect, and runs it with asyncpg on the connection the session holds.

Rules:
- Only statements whose values asyncpg converts by itself (UUID, text, integers,
  booleans, timestamps, bytea, text arrays): no SQLAlchemy type processing runs.
  Bound parameters are named; none may be an expanding IN list.
- Connections: once the session has begun its transaction (the ORM has been used),
  driver statements run on the session's connection, inside that transaction. Before
  that, a request's session (`lend_connections`) lends them one connection taken
  straight from its engine's pool: a read that never touches the ORM skips the
  session's connection and transaction bookkeeping (checkout, commit, close through
  greenlets: about 0.4 ms of CPU a read, measured). The lent connection goes back to
  the pool the moment the ORM begins its transaction (`LendingSession`), so a request
  never holds two and the pool cannot deadlock on them, and at the end of the
  request (`return_lease`). Outside a request, the session's own connection.
- Transactions: asyncpg starts the session's transaction with the first statement
  the session itself runs. A driver statement run before that runs on its own
  (autocommit). For a SELECT that is the same as inside the transaction (READ
  COMMITTED takes a snapshot per statement); a write before the transaction has
  begun is the audit writer's decision (`app.audit.writer.record`).
- Errors come out as SQLAlchemy's `DBAPIError`, as from the session, so the outage
  handling (`app.errors.database_unavailable`) and the audit writer's 503 apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.concurrency import in_greenlet

# What asyncpg raises: server errors, and client-side ones (a closed or broken
# connection, a timeout), which all mean the connection is lost.
_DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)


class DriverStatement:
    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._sql: str | None = None
        self._names: tuple[str, ...] = ()
        self._fixed: dict[str, Any] = {}

    def _compile(self, session: AsyncSession) -> str:
        dialect = session.bind.dialect if session.bind is not None else None
        compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        if compiled.positiontup is None:
            raise TypeError("DriverStatement needs a positional (asyncpg) dialect")
        self._names = tuple(compiled.positiontup)
        # Values bound when the statement was built (literals such as 'transfer').
        self._fixed = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required
        }
        self._sql = str(compiled)
        return self._sql

    def sql(self, session: AsyncSession) -> str:
        return self._sql or self._compile(session)

    def _args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] if name in params else self._fixed[name] for name in self._names]

    async def fetch(self, session: AsyncSession, params: Mapping[str, Any]) -> list[asyncpg.Record]:
        sql = self.sql(session)
        connection = await _driver_connection(session)
        try:
            rows: list[asyncpg.Record] = await connection.fetch(sql, *self._args(params))
        except _DRIVER_ERRORS as exc:
            raise _wrapped(sql, exc) from exc
        return rows

    async def fetchrow(
        self, session: AsyncSession, params: Mapping[str, Any]
    ) -> asyncpg.Record | None:
        rows = await self.fetch(session, params)
        return rows[0] if rows else None

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> None:
        sql = self.sql(session)
        connection = await _driver_connection(session)
        try:
            await connection.execute(sql, *self._args(params))
        except _DRIVER_ERRORS as exc:
            raise _wrapped(sql, exc) from exc


# Session flag: the request has written nothing and will write nothing but its audit
# row (`reads_only`).
_READS_ONLY = "vcm.reads_only"


def reads_only(session: AsyncSession) -> None:
    """Declare that this request only reads: an audit row it records before any
    statement of the session has begun the transaction may commit on its own (there
    is no work for it to commit or roll back with)."""
    session.info[_READS_ONLY] = True


async def audit_may_run_alone(session: AsyncSession) -> bool:
    """True when a write may run on the driver now: inside the session's transaction,
    or on its own for a request that only reads (`reads_only`)."""
    return session.info.get(_READS_ONLY, False) or await in_transaction(session)


async def in_transaction(session: AsyncSession) -> bool:
    """Whether the session's connection has begun its transaction."""
    if session.sync_session.get_transaction() is None:
        return False  # no connection yet, or only the lent one (which never begins)
    return bool((await _driver_connection(session)).is_in_transaction())


# Session info keys: the mark of a session that lends its driver statements a pool
# connection, the connection it lent, and the session transaction's own connection as
# last looked up.
_LENDS = "vcm.lends"
_LEASE = "vcm.lease"
_OWN = "vcm.own_connection"


class LendingSession(Session):
    """The sessions of `app.db.make_sessionmaker`: a connection lent to the driver
    statements goes back to the pool when the ORM begins its transaction."""


@event.listens_for(LendingSession, "after_transaction_create")
def _give_back_before_the_orm_checks_out(session: Session, transaction: object) -> None:
    # The ORM's own checkout follows this event. Inside the greenlet that runs the
    # ORM's statement (always, in practice) the lent connection goes back first;
    # elsewhere giving it back could need to await, so `return_lease` does it.
    if _LEASE in session.info and in_greenlet():
        session.info.pop(_LEASE).close()


def lend_connections(session: AsyncSession) -> None:
    """Let this (request's) session's driver statements borrow one connection from its
    engine's pool until the ORM begins a transaction (module rules)."""
    if not isinstance(session.sync_session, LendingSession):
        raise TypeError("only a LendingSession gives back what it borrowed in time")
    session.info[_LENDS] = True


async def return_lease(session: AsyncSession) -> None:
    """Give back the connection the driver statements borrowed, if still held. One the
    server closed goes back too: the pool's checkout check replaces it."""
    lease = session.info.pop(_LEASE, None)
    if lease is not None:
        await greenlet_spawn(lease.close)


def session_untouched(session: AsyncSession) -> bool:
    """The session has no transaction and no pending objects: nothing to commit, roll
    back or close (its driver statements, if any, ran on a lent connection)."""
    return session.sync_session.get_transaction() is None and not (
        session.new or session.dirty or session.deleted
    )


async def _driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection a driver statement runs on (module rules)."""
    transaction = session.sync_session.get_transaction()
    if transaction is None and session.info.get(_LENDS):
        lease = session.info.get(_LEASE)
        if lease is None:
            lease = await _borrow(session)
        lent: asyncpg.Connection = lease.driver_connection
        return lent
    own = session.info.get(_OWN)
    if transaction is not None and own is not None and own[0] is transaction:
        cached: asyncpg.Connection = own[1]
        return cached
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    session.info[_OWN] = (session.sync_session.get_transaction(), driver)
    return driver


async def _borrow(session: AsyncSession) -> Any:
    """A connection straight from the pool of the session's engine, held in the session."""
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("a lending session is bound to one engine")
    try:
        lease = session.info[_LEASE] = await engine.raw_connection()
    except SQLAlchemyError:
        raise  # the pool's own (a wait that timed out), as the session's
    except Exception as exc:  # connecting failed (unwrapped): an outage
        raise DBAPIError("(connect)", None, exc, connection_invalidated=True) from exc
    return lease


def _wrapped(sql: str, exc: BaseException) -> DBAPIError:
    """A server error keeps its SQLSTATE (`database_unavailable` reads it: 08, 57P...);
    anything raised on the client side means the connection is gone."""
    lost = not isinstance(exc, asyncpg.PostgresError)
    return DBAPIError(sql, None, exc, connection_invalidated=lost)
