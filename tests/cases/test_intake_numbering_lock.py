"""Intake holds the case number's counter row as briefly as it can: everything else an
intake writes comes before the number, and only the case's own INSERT after it.

Intakes of one province queue on that row from allocation to commit (no gaps), so
whatever ran after the allocation ran once per intake, one intake at a time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db import make_sessionmaker
from app.models import CaseTimelineEntry
from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body
from tests.conftest import World

_WAITING_INTAKE = text(
    "SELECT pid FROM pg_stat_activity "
    "WHERE wait_event_type = 'Lock' AND query LIKE '%case_number_counters%'"
)
_WRITE_LOCKED_TABLES = text(
    "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
    "WHERE l.pid = :pid AND l.mode = 'RowExclusiveLock' AND c.relkind IN ('r', 'p')"
)


async def _waiting_intake(engine: AsyncEngine) -> int:
    for _ in range(200):
        async with engine.connect() as conn:
            pid = (await conn.execute(_WAITING_INTAKE)).scalar()
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("no intake waited for the counter row")


async def test_an_intake_waiting_for_its_number_has_written_all_but_the_case(
    world: World, engine: AsyncEngine
) -> None:
    worker = await world.user(Role.CASE_WORKER)
    body = intake_body()
    year = datetime.fromisoformat(body["received_at"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).year
    async with engine.connect() as holder:
        # Another intake of the same province holds the counter row.
        await holder.execute(
            text(
                "INSERT INTO case_number_counters (province_code, year, last_serial) "
                "VALUES ('40', :year, 0) ON CONFLICT DO NOTHING"
            ),
            {"year": year},
        )
        await holder.commit()
        await holder.execute(
            text(
                "SELECT 1 FROM case_number_counters "
                "WHERE province_code = '40' AND year = :year FOR UPDATE"
            ),
            {"year": year},
        )
        intake = asyncio.create_task(
            world.client.post("/api/v1/cases", json=body, headers=worker.headers)
        )
        try:
            pid = await _waiting_intake(engine)
            async with engine.connect() as conn:
                written = set((await conn.execute(_WRITE_LOCKED_TABLES, {"pid": pid})).scalars())
        finally:
            await holder.rollback()
        response = await intake
    assert response.status_code == 201, response.text
    assert {"persons", "case_persons", "case_timeline", "audit_events"} <= written
    assert "cases" not in written
    assert response.json()["case_number"].endswith("-000001")


async def test_a_timeline_entry_of_no_case_still_fails_at_commit(
    engine: AsyncEngine, clean_db: None
) -> None:
    async with make_sessionmaker(engine)() as session:
        session.add(CaseTimelineEntry(case_id=uuid.uuid4(), kind="case_opened"))
        await session.flush()  # checked at commit, not here
        with pytest.raises(IntegrityError, match="fk_case_timeline_case_id_cases"):
            await session.commit()


async def test_a_case_person_of_no_case_still_fails_at_commit(
    world: World, engine: AsyncEngine, session: AsyncSession
) -> None:
    worker = await world.user(Role.CASE_WORKER)
    opened = await world.client.post("/api/v1/cases", json=intake_body(), headers=worker.headers)
    victim_id = opened.json()["victim"]["id"]
    async with engine.connect() as conn:
        await conn.execute(
            text(
                "INSERT INTO case_persons (case_id, person_id, role) "
                "VALUES (:case_id, :person_id, 'relative')"
            ),
            {"case_id": uuid.uuid4(), "person_id": victim_id},
        )
        with pytest.raises(IntegrityError, match="fk_case_persons_case_id_cases"):
            await conn.commit()
