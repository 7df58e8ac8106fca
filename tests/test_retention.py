"""Identity retention: `vcm retention run` crypto-shreds the persons of cases closed
longer ago than `VCM_IDENTITY_RETENTION_DAYS`, keeps their statistics columns, audits
each erasure, and without the setting erases nothing."""

from __future__ import annotations

import asyncio
import io
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import cli
from app.config import get_settings
from app.security.permissions import Role
from app.services import retention
from app.services.persons import ENCRYPTED_COLUMNS
from tests.audit.helpers import events_after, last_event_id
from tests.cases.intake_helpers import open_case
from tests.cases.test_case_persons import add, person_body
from tests.conftest import World


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: object) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VCM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("VCM_IDENTITY_RETENTION_DAYS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _vcm(monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    get_settings.cache_clear()
    return await asyncio.to_thread(cli.main, list(argv))


async def _close(engine: AsyncEngine, case_id: str, days_ago: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE cases SET status = 'closed', closed_at = :at WHERE id = :id"),
            {"at": datetime.now(UTC) - timedelta(days=days_ago), "id": uuid.UUID(case_id)},
        )


async def _persons(engine: AsyncEngine) -> dict[uuid.UUID, dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT * FROM persons"))
        return {r["id"]: dict(r) for r in rows.mappings()}


async def _arrange(world: World, engine: AsyncEngine) -> dict[str, list[uuid.UUID]]:
    """A case closed 400 days ago (victim and a relative), one closed 10 days ago and
    one still open; the persons of each."""
    owner = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    old = await open_case(world, owner)
    relative = await add(world, owner, old["id"], person_body())
    recent = await open_case(world, owner)
    still_open = await open_case(world, owner)
    await _close(engine, old["id"], 400)
    await _close(engine, recent["id"], 10)
    return {
        "old": [uuid.UUID(old["victim"]["id"]), uuid.UUID(relative["id"])],
        "kept": [uuid.UUID(recent["victim"]["id"]), uuid.UUID(still_open["victim"]["id"])],
    }


async def test_the_dry_run_counts_and_changes_nothing(
    world: World,
    engine: AsyncEngine,
    cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _arrange(world, engine)
    before = await _persons(engine)
    mark = await last_event_id(engine)
    monkeypatch.setenv("VCM_IDENTITY_RETENTION_DAYS", "365")
    assert await _vcm(monkeypatch, "retention", "run", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "2 person(s) of 1 case(s)" in out and "Dry run" in out
    assert await _persons(engine) == before
    assert await events_after(engine, mark) == []


async def test_the_run_erases_only_the_persons_of_cases_closed_past_retention(
    world: World,
    engine: AsyncEngine,
    cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    people = await _arrange(world, engine)
    before = await _persons(engine)
    mark = await last_event_id(engine)
    monkeypatch.setenv("VCM_IDENTITY_RETENTION_DAYS", "365")
    assert await _vcm(monkeypatch, "retention", "run") == 0
    assert "Erased the identity of 2 person(s) of 1 case(s)" in capsys.readouterr().out
    after = await _persons(engine)
    for person_id in people["old"]:
        row = after[person_id]
        assert row["erased_at"] is not None
        assert row["erasure_reason_code"] == "retention_expired"
        assert all(row[column] is None for column in ENCRYPTED_COLUMNS)
        # The statistics columns are kept.
        for column in ("kind", "sex", "nationality", "birth_year", "hometown_province_code"):
            assert row[column] == before[person_id][column]
    for person_id in people["kept"]:
        assert after[person_id] == before[person_id]
    # Audited: one `person.erase` per person, reason retention, by the system.
    events = await events_after(engine, mark)
    erased = [e for e in events if e["action"] == "person.erase"]
    assert sorted(e["person_id"] for e in erased) == sorted(people["old"])
    assert {(e["reason"], e["actor_id"]) for e in erased} == {("retention_expired", None)}
    # A second run finds nothing left to erase.
    assert await _vcm(monkeypatch, "retention", "run") == 0
    assert "Erased the identity of 0 person(s)" in capsys.readouterr().out


async def test_without_the_setting_nothing_is_erased(
    world: World,
    engine: AsyncEngine,
    cli_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _arrange(world, engine)
    before = await _persons(engine)
    assert await _vcm(monkeypatch, "retention", "run") == 0
    assert "not set" in capsys.readouterr().out
    assert await _persons(engine) == before
    result = await retention.run(world.session, days=None, now=datetime.now(UTC), dry_run=False)
    assert result == retention.RetentionResult(cases=0, persons=0, erased=0)


async def test_a_person_also_on_a_case_still_kept_is_not_erased(
    world: World, engine: AsyncEngine
) -> None:
    people = await _arrange(world, engine)
    async with engine.begin() as conn:
        # The old case's relative is also a person of the recently closed case.
        await conn.execute(
            text(
                "INSERT INTO case_persons (case_id, person_id, role, relation) "
                "SELECT c.id, cp.person_id, cp.role, cp.relation FROM case_persons cp, cases c "
                "WHERE cp.person_id = :p AND c.victim_person_id = :v"
            ),
            {"p": people["old"][1], "v": people["kept"][0]},
        )
    cases, due = await retention.due(world.session, datetime.now(UTC) - timedelta(days=365))
    assert (cases, due) == (1, [people["old"][0]])
