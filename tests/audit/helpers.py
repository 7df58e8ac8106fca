"""Helpers for the audit tests: read events past a mark, seal now, write raw events."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import audit
from app.audit.worker import seal_round


async def last_event_id(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_events"))).scalar_one()
        )


async def events_after(engine: AsyncEngine, mark: int) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT * FROM audit_events WHERE id > :mark ORDER BY id"), {"mark": mark}
        )
        return [dict(r) for r in rows.mappings()]


async def seal_now(app: FastAPI, *, checkpoint: bool = False) -> int:
    from datetime import timedelta

    result = await seal_round(
        app.state.sessionmaker,
        app.state.keys,
        wait=True,
        checkpoint_interval=timedelta(0) if checkpoint else None,
    )
    return result.sealed or 0


async def write_events(app: FastAPI, count: int, *, action: str = "test.event") -> None:
    """`count` events, each in its own committed transaction (distinct txids)."""
    for n in range(count):
        async with app.state.sessionmaker() as session:
            await audit.record(
                session, action=action, resource_type="test", resource_id=str(n), reason="fixture"
            )
            await session.commit()


async def tamper(engine: AsyncEngine, *statements: str, **params: Any) -> None:
    """Run SQL as the superuser with triggers off, as an attacker with full control would."""
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            await conn.execute(text(statement), params)
