"""A search does the same work whether or not a match belongs to another agency.

Timing itself is measured by `bench/search_timing.py`; these tests pin the structure
that makes the times equal: searching another agency's person runs the very same SQL
statements as searching someone who does not exist, and unwraps no key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event

from app.db import make_sessionmaker
from app.driver import DriverStatement
from app.security.keyring import KeyProvider, WrappedKey
from app.security.permissions import Role
from app.security.principal import Principal
from app.services.cases import intake, read
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import World
from tests.vault.conftest import made_up


class _CountingKeys:
    """A key provider that counts data keys unwrapped (each is a decryption's start)."""

    def __init__(self, inner: KeyProvider) -> None:
        self.inner = inner
        self.unwrapped = 0

    def unwrap_dek(self, wrapped: WrappedKey, *, context: bytes) -> bytes:
        self.unwrapped += 1
        return self.inner.unwrap_dek(wrapped, context=context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextmanager
def _statements(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement run, through the ORM (an engine event) or on the driver."""
    seen: list[str] = []
    fetch, execute = DriverStatement.fetch, DriverStatement.execute

    async def traced_fetch(self: DriverStatement, session: Any, params: Any) -> Any:
        seen.append(self.sql(session))
        return await fetch(self, session, params)

    async def traced_execute(self: DriverStatement, session: Any, params: Any) -> None:
        seen.append(self.sql(session))
        await execute(self, session, params)

    def on_cursor(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sync_engine = app.state.engine.sync_engine
    with monkeypatch.context() as patch:
        patch.setattr(DriverStatement, "fetch", traced_fetch)
        patch.setattr(DriverStatement, "execute", traced_execute)
        event.listen(sync_engine, "before_cursor_execute", on_cursor)
        try:
            yield seen
        finally:
            event.remove(sync_engine, "before_cursor_execute", on_cursor)


async def _three_ids(world: World) -> tuple[Principal, dict[str, str]]:
    """A case worker; the national IDs of their own victim, of another agency's
    victim, and of no one."""
    worker = await world.user(Role.CASE_WORKER)
    stranger = await world.user(Role.CASE_WORKER)
    own, theirs = intake_body(), intake_body()
    await open_case(world, worker, own)
    await open_case(world, stranger, theirs)
    absent = intake_body()["victim"]["national_id"]
    principal = Principal(worker.id, Role.CASE_WORKER, worker.agency.id, worker.agency.kind, "40")
    ids = {
        "own": own["victim"]["national_id"],
        "other_agency": theirs["victim"]["national_id"],
        "absent": absent,
    }
    return principal, ids


async def test_search_of_another_agencys_person_does_what_a_search_of_no_one_does(
    world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    principal, ids = await _three_ids(world)
    sessions = make_sessionmaker(app.state.engine)
    work: dict[str, tuple[list[str], int, int]] = {}
    for name, national_id in ids.items():
        keys = _CountingKeys(app.state.keys)
        with _statements(app, monkeypatch) as seen:
            async with sessions() as session:
                found = await read.search_cases(
                    session,
                    keys,  # type: ignore[arg-type]
                    app.state.indexer,
                    principal,
                    national_id=national_id,
                )
                await session.rollback()
        work[name] = (list(seen), keys.unwrapped, len(found))
    assert work["own"][1:] == (1, 1)  # found: its key unwrapped, its case listed
    assert work["other_agency"][2] == 0
    # The same statements, text for text, and no key unwrapped for either.
    assert work["other_agency"] == work["absent"]
    assert work["absent"][1] == 0
    assert len(work["own"][0]) > len(work["absent"][0])  # the tracing sees statements


async def test_duplicate_check_at_intake_does_the_same_for_both(
    world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    principal, ids = await _three_ids(world)
    sessions = make_sessionmaker(app.state.engine)
    work: dict[str, tuple[list[str], int, int]] = {}
    for name, national_id in ids.items():
        keys = _CountingKeys(app.state.keys)
        fields = made_up(national_id=national_id, phone=None, date_of_birth=None)
        with _statements(app, monkeypatch) as seen:
            async with sessions() as session:
                found = await intake.possible_duplicates(
                    session,
                    keys,  # type: ignore[arg-type]
                    app.state.indexer,
                    principal,
                    fields,
                )
                await session.rollback()
        work[name] = (list(seen), keys.unwrapped, len(found))
    assert work["own"][1:] == (1, 1)
    assert work["other_agency"] == work["absent"]
    assert work["absent"][1:] == (0, 0)


async def test_caller_without_case_read_runs_the_same_statement_and_decrypts_nothing(
    world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    principal, ids = await _three_ids(world)
    admin = Principal(
        uuid.uuid4(), Role.AGENCY_ADMIN, principal.agency_id, principal.agency_kind, "40"
    )
    sessions = make_sessionmaker(app.state.engine)
    traces = []
    for national_id in (ids["own"], ids["absent"]):
        keys = _CountingKeys(app.state.keys)
        with _statements(app, monkeypatch) as seen:
            async with sessions() as session:
                found = await read.search_cases(
                    session,
                    keys,  # type: ignore[arg-type]
                    app.state.indexer,
                    admin,
                    national_id=national_id,
                )
                await session.rollback()
        traces.append((list(seen), keys.unwrapped, found))
    assert traces[0] == traces[1]
    assert traces[0][1:] == (0, [])
