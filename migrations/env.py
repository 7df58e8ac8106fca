"""Alembic environment: async engine, the app's metadata, URL from the app's settings.

The URL comes from `config.attributes["url"]` when the app runs migrations itself
(`vcm migrate`, tests), else from the `DATABASE_URL` setting.
"""

from __future__ import annotations

import asyncio
import re

from alembic import context
from sqlalchemy.engine import Connection

import app.models  # noqa: F401 - registers every table on the metadata
from app.config import get_settings
from app.db import make_engine, metadata

config = context.config
PARTITION_NAME = re.compile(r"^audit_(events|seals)_p\d")


def _url() -> str:
    url = config.attributes.get("url") or get_settings().database_url
    if not url:
        raise SystemExit("No database: set DATABASE_URL or run through `vcm migrate`.")
    return str(url)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out the audit tables' partitions: they are made by `audit_ensure_partitions`
    at run time, not by models, and autogenerate cannot see the partitioning."""
    return not (type_ == "table" and name is not None and PARTITION_NAME.match(name))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_name=include_name,
        compare_type=True,
        compare_server_default=False,
        transaction_per_migration=True,
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_url(), pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
    else:
        asyncio.run(_run_async())
