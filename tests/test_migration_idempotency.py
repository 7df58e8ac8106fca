"""The idempotency migration drops the stored response bodies and keeps their ids."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from app import migrate
from app.db import make_engine
from tests.conftest import fresh_database

_DIGEST = "20261203_idempotency_digest"
_BEFORE = "20261203_break_glass"


@pytest.fixture
def scratch_url(database_url: str) -> str:
    return fresh_database(database_url, "vcm_migration_idempotency")


def _run(url: str, statement: str, **params: object) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        engine = make_engine(url, pool_size=1)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), params)
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_existing_bodies_are_dropped_and_their_ids_kept(scratch_url: str) -> None:
    migrate.upgrade(scratch_url, _BEFORE)
    created = uuid.uuid4()
    insert = (
        "INSERT INTO idempotency_keys (principal_id, key, method, path, request_hash, "
        "status_code, response_body) VALUES (:p, :k, 'POST', '/api/v1/cases', "
        "'\\x00'::bytea, 201, CAST(:body AS jsonb))"
    )
    body = f'{{"id": "{created}", "case_number": "HN-2026-000101", "full_name": "N*** V** A"}}'
    _run(scratch_url, insert, p=uuid.uuid4(), k="with-id", body=body)
    _run(scratch_url, insert, p=uuid.uuid4(), k="without-id", body="{}")
    migrate.upgrade(scratch_url, _DIGEST)
    rows = _run(
        scratch_url,
        "SELECT key, resource_id, row_to_json(t)::text FROM idempotency_keys t ORDER BY key",
    )
    assert [(r[0], r[1]) for r in rows] == [("with-id", created), ("without-id", None)]
    assert all("HN-2026" not in str(r[2]) and "N***" not in str(r[2]) for r in rows)
    migrate.downgrade(scratch_url, _BEFORE)
    assert _run(scratch_url, "SELECT count(*) FROM idempotency_keys") == [(2,)]
