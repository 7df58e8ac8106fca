"""Engine, the per-request session and its single transaction.

Rule: one session and one transaction per request. `get_session` opens it, services
only `flush()`, and the dependency commits before the response is sent (FastAPI runs
the code after `yield` of a `scope="function"` dependency before sending). An error
rolls everything back, except errors marked `keep_work` (a counted login failure, a
recorded denial), which commit what was written and still answer the error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel

from app.errors import AppError, ServiceUnavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# SQLModel keeps one MetaData for all tables; give it the naming convention so every
# constraint has a predictable name that migrations can refer to.
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as well as the asyncpg form."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        normalise_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError | ConnectionError | TimeoutError)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except AppError as exc:
            if exc.keep_work:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException as exc:
            await session.rollback()
            if is_connection_error(exc):
                raise ServiceUnavailable() from exc
            raise
        else:
            try:
                await session.commit()
            except BaseException as exc:
                if is_connection_error(exc):
                    raise ServiceUnavailable() from exc
                raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
