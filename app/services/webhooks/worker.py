"""The background loop: deliver due webhooks, then run the periodic jobs.

It runs inside every server process (started by the app's lifespan) and alone with
`vcm worker`; SKIP LOCKED claims make any number of them safe together. A failed
round is logged by exception type only and retried on the next tick.

`PERIODIC_JOBS` is the other periodic work on the same loop (the referral expiry
sweep, the overdue data subjects' requests and cases): each job gets its own short transaction
and the time, returns how many rows it handled, and must be safe to run concurrently
in several processes (use SKIP LOCKED or idempotent updates).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.security.keyring import KeyProvider
from app.services.cases.events import announce_overdue as announce_overdue_cases
from app.services.data_requests import announce_overdue as announce_overdue_requests
from app.services.incidents import announce_overdue as announce_overdue_incidents
from app.services.referrals.lifecycle import expire_due
from app.services.webhooks.delivery import BATCH_SIZE, run_once

log = logging.getLogger("vcm.webhooks")

PeriodicJob = Callable[[AsyncSession, datetime], Awaitable[int]]
# Pending referrals whose due date passed become `expired` (reads already treat them
# so; the sweep records it, with a timeline entry and an audit row). Incidents past
# their notification deadline are announced (`incident.overdue`), and open data
# subjects' requests past their completion day once (`data_request.overdue`), and
# cases past their next legal deadline once per deadline (`case.overdue`).
PERIODIC_JOBS: list[PeriodicJob] = [
    expire_due,
    announce_overdue_incidents,
    announce_overdue_requests,
    announce_overdue_cases,
]
# Rounds in a row while full batches keep coming, before yielding to the timer.
MAX_ROUNDS_PER_TICK = 10


async def run_periodic_jobs(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Every job in `PERIODIC_JOBS`, each in its own transaction; a failing job is
    logged and does not stop the others."""
    moment = now or datetime.now(UTC)
    handled = 0
    for job in list(PERIODIC_JOBS):
        try:
            async with sessionmaker() as session, session.begin():
                handled += await job(session, moment)
        except Exception as exc:
            log.warning(
                "periodic job %s failed: %s", getattr(job, "__name__", "job"), type(exc).__name__
            )
    return handled


async def tick(
    sessionmaker: async_sessionmaker[AsyncSession], keys: KeyProvider, settings: Settings
) -> None:
    for _ in range(MAX_ROUNDS_PER_TICK):
        if await run_once(sessionmaker, keys, settings) < BATCH_SIZE:
            break
    await run_periodic_jobs(sessionmaker)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: KeyProvider,
    settings: Settings,
    *,
    interval_seconds: float,
    stop: asyncio.Event,
) -> None:
    """Deliver until `stop` is set."""
    while not stop.is_set():
        try:
            await tick(sessionmaker, keys, settings)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("webhook worker round failed: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)


@contextlib.asynccontextmanager
async def running(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: KeyProvider,
    settings: Settings,
    *,
    interval_seconds: float | None = None,
) -> AsyncIterator[None]:
    """Run the loop for the block, stop it cleanly. An interval of 0 (default from
    `VCM_WEBHOOK_DELIVERY_INTERVAL`) runs nothing: tests call `run_once` themselves."""
    interval = (
        settings.webhook_delivery_interval_seconds if interval_seconds is None else interval_seconds
    )
    if interval <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        run(sessionmaker, keys, settings, interval_seconds=interval, stop=stop),
        name="vcm-webhook-worker",
    )
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=SHUTDOWN_SECONDS)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()


# An in-flight request is bounded by the send deadline; shutdown waits that long.
SHUTDOWN_SECONDS = 35.0
