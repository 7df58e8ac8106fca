"""The delivery loop: concurrent workers, the background task, periodic jobs, the CLI."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli import build_parser
from app.security.permissions import Role
from app.services.webhooks import delivery, worker
from app.services.webhooks.outbox import emit
from tests.conftest import World
from tests.webhooks.helpers import app_settings, receiver, register


async def _emit(app: FastAPI, agency_id: uuid.UUID, count: int = 1) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        for _ in range(count):
            await emit(
                session,
                event_type="referral.created",
                agency_ids=[agency_id],
                data={"referral_id": str(uuid.uuid4())},
            )


async def test_two_workers_never_send_the_same_delivery(world: World, app: FastAPI) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    with app_settings(app, webhook_allow_private=True) as settings, receiver() as hook:
        await register(world, admin, hook.url())
        await _emit(app, admin.agency.id, count=6)
        tried = await asyncio.gather(
            *(delivery.run_once(app.state.sessionmaker, app.state.keys, settings) for _ in range(3))
        )
    assert sum(tried) == 6
    assert len(hook.received) == 6
    assert len({r.headers["webhook-id"] for r in hook.received}) == 6


async def test_background_worker_delivers(world: World, app: FastAPI) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    with app_settings(app, webhook_allow_private=True) as settings, receiver() as hook:
        await register(world, admin, hook.url())
        await _emit(app, admin.agency.id)
        async with worker.running(
            app.state.sessionmaker, app.state.keys, settings, interval_seconds=0.05
        ):
            for _ in range(100):
                if hook.received:
                    break
                await asyncio.sleep(0.05)
    assert len(hook.received) == 1


async def test_periodic_jobs_run_in_their_own_transactions(
    world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[datetime] = []

    async def failing(session: AsyncSession, now: datetime) -> int:
        raise RuntimeError("boom")

    async def counting(session: AsyncSession, now: datetime) -> int:
        assert session.in_transaction()
        await session.execute(text("SELECT 1"))
        seen.append(now)
        return 3

    monkeypatch.setattr(worker, "PERIODIC_JOBS", [failing, counting])
    assert await worker.run_periodic_jobs(app.state.sessionmaker) == 3
    assert len(seen) == 1


def test_vcm_worker_command_is_registered() -> None:
    args = build_parser().parse_args(["worker", "--interval", "1.5"])
    assert args.interval == 1.5
    assert args.func.__name__ == "cmd_worker"
