"""The background sealer: every few seconds, chain what committed and, now and then,
sign a checkpoint and make sure next month's partition exists.

Every worker process runs one; the sealer lock lets only one of them seal at a time
(the others find it taken and skip the round), so running many is safe. Each round
is its own short transaction; a failed round is logged (by type only, no values) and
retried on the next tick, which also retries partition creation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.chain import ensure_partitions, seal
from app.audit.checkpoints import make_checkpoint
from app.security.keyring import KeyProvider

log = logging.getLogger("vcm.audit")

# Partitions are checked this often (and after any failed round); a new month's
# partition is made a month ahead, so this only needs to be far below a month.
ENSURE_EVERY_SECONDS = 600.0


@dataclass(frozen=True)
class SealRound:
    sealed: int | None
    checkpointed: bool


async def seal_round(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: KeyProvider,
    *,
    wait: bool,
    checkpoint_interval: timedelta | None,
) -> SealRound:
    """One committed sealing transaction, with a checkpoint when one is due.

    `checkpoint_interval=None` never checkpoints; `timedelta(0)` checkpoints any
    growth. `sealed` is None when another sealer held the lock (`wait=False`).
    """
    async with sessionmaker() as session, session.begin():
        sealed = await seal(session, wait=wait)
        checkpoint = None
        if sealed is not None and checkpoint_interval is not None:
            checkpoint = await make_checkpoint(session, keys, interval=checkpoint_interval)
    return SealRound(sealed, checkpoint is not None)


async def ensure_partitions_now(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session, session.begin():
        return await ensure_partitions(session)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: KeyProvider,
    *,
    interval_seconds: float,
    checkpoint_interval: timedelta,
    stop: asyncio.Event,
) -> None:
    """Seal until `stop` is set (the app's lifespan sets it on shutdown)."""
    next_ensure = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() >= next_ensure:
                created = await ensure_partitions_now(sessionmaker)
                if created:
                    log.info("audit partitions created: %d", created)
                next_ensure = time.monotonic() + ENSURE_EVERY_SECONDS
            await seal_round(
                sessionmaker, keys, wait=False, checkpoint_interval=checkpoint_interval
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("audit sealer round failed: %s", type(exc).__name__)
            next_ensure = 0.0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)


@contextlib.asynccontextmanager
async def running(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: KeyProvider,
    *,
    interval_seconds: float,
    checkpoint_interval: timedelta,
) -> AsyncIterator[None]:
    """Ensure partitions at start-up, run the sealer for the block, stop it cleanly.

    `interval_seconds <= 0` disables the background sealer (tests seal on demand).
    """
    try:
        await ensure_partitions_now(sessionmaker)
    except Exception as exc:  # the database may be briefly away; the worker retries
        log.warning("audit partitions not checked at start-up: %s", type(exc).__name__)
    if interval_seconds <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        run(
            sessionmaker,
            keys,
            interval_seconds=interval_seconds,
            checkpoint_interval=checkpoint_interval,
            stop=stop,
        ),
        name="vcm-audit-sealer",
    )
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
