"""The database itself refuses to rewrite the audit trail, and creates its partitions."""

from __future__ import annotations

import asyncio
import os

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app import migrate
from app.db import make_engine
from tests.audit.helpers import seal_now, write_events
from tests.conftest import fresh_database


@pytest.fixture
async def sealed(app: FastAPI, clean_db: None) -> FastAPI:
    await write_events(app, 3)
    await seal_now(app, checkpoint=True)
    return app


async def _partition_of(engine: AsyncEngine, parent: str) -> str:
    async with engine.connect() as conn:
        return str(
            (
                await conn.execute(
                    text(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        "WHERE i.inhparent = CAST(:parent AS regclass) ORDER BY 1 LIMIT 1"
                    ),
                    {"parent": parent},
                )
            ).scalar_one()
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE audit_seals SET hash = prev_hash",
        "DELETE FROM audit_seals",
        "TRUNCATE audit_seals",
        "UPDATE audit_checkpoints SET chain_seq = 0",
        "DELETE FROM audit_checkpoints",
        "TRUNCATE audit_checkpoints",
    ],
)
async def test_changes_are_refused(sealed: FastAPI, engine: AsyncEngine, statement: str) -> None:
    async with engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            await conn.execute(text(statement))
        await conn.rollback()


@pytest.mark.parametrize("parent", ["audit_events", "audit_seals"])
@pytest.mark.parametrize("verb", ["DELETE FROM", "TRUNCATE", "UPDATE"])
async def test_partitions_refuse_changes_too(
    sealed: FastAPI, engine: AsyncEngine, parent: str, verb: str
) -> None:
    partition = await _partition_of(engine, parent)
    column = "action = 'x'" if parent == "audit_events" else "hash = prev_hash"
    # Names come from the catalog and the parametrization, not from input.
    statement = (
        f"UPDATE {partition} SET {column}"  # noqa: S608
        if verb == "UPDATE"
        else f"{verb} {partition}"
    )
    async with engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            await conn.execute(text(statement))
        await conn.rollback()


async def test_partitions_exist_for_this_month_and_next(
    sealed: FastAPI, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        assert (await conn.execute(text("SELECT audit_ensure_partitions(1)"))).scalar_one() == 0
        names = (
            await conn.execute(
                text(
                    "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') "
                    "+ make_interval(months => m), 'YYYY_MM') FROM generate_series(0, 1) m"
                )
            )
        ).scalars()
        for name in names:
            found = await conn.execute(
                text("SELECT to_regclass(:n)"), {"n": f"audit_events_p{name}"}
            )
            assert found.scalar_one() is not None, name
        # Further ahead on request; created with their TRUNCATE guard.
        assert (await conn.execute(text("SELECT audit_ensure_partitions(3)"))).scalar_one() == 2
        await conn.rollback()


async def test_separate_app_role_gets_only_select_and_insert(database_url: str) -> None:
    url = await asyncio.to_thread(fresh_database, database_url, "vcm_audit_roles")
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                    "'vcm_app_test') THEN CREATE ROLE vcm_app_test; END IF; END $$"
                )
            )
            # What an operator grants the service on every table the owner makes; the
            # audit migration then narrows the audit tables and their partitions.
            await conn.execute(
                text(
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                    "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO vcm_app_test"
                )
            )
        os.environ["VCM_DB_APP_ROLE"] = "vcm_app_test"
        try:
            await asyncio.to_thread(migrate.upgrade, url)
        finally:
            del os.environ["VCM_DB_APP_ROLE"]
        async with engine.begin() as conn:
            await conn.execute(text("SELECT audit_ensure_partitions(3)"))  # made later
        async with engine.connect() as conn:
            partitions = (
                (
                    await conn.execute(
                        text(
                            "SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                            "ON c.oid = i.inhrelid WHERE i.inhparent IN "
                            "('audit_events'::regclass, 'audit_seals'::regclass)"
                        )
                    )
                )
                .scalars()
                .all()
            )
            rights = {}
            for table in ("audit_events", "audit_seals", "audit_checkpoints", *partitions):
                for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"):
                    rights[table, privilege] = (
                        await conn.execute(
                            text("SELECT has_table_privilege('vcm_app_test', :t, :p)"),
                            {"t": table, "p": privilege},
                        )
                    ).scalar_one()
            may_ensure = (
                await conn.execute(
                    text(
                        "SELECT has_function_privilege('vcm_app_test', "
                        "'audit_ensure_partitions(integer)', 'EXECUTE')"
                    )
                )
            ).scalar_one()
            await conn.execute(
                text(
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                    "REVOKE ALL ON TABLES FROM vcm_app_test"
                )
            )
            await conn.commit()
    finally:
        await engine.dispose()
    assert {k for k, allowed in rights.items() if allowed} == {
        (t, p)
        for t in ("audit_events", "audit_seals", "audit_checkpoints")
        for p in ("SELECT", "INSERT")
    }
    assert len(partitions) >= 6
    assert may_ensure
