"""`vcm worker`: the background work without the HTTP server.

Runs the webhook delivery loop (with `PERIODIC_JOBS`) and the audit sealer until
Ctrl-C or SIGTERM. Safe beside running servers: claims use SKIP LOCKED and the sealer
takes its lock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from datetime import timedelta
from typing import Any

from app.config import Settings


def register(subparsers: Any) -> None:
    worker = subparsers.add_parser(
        "worker", help="deliver webhooks and seal the audit trail, without serving HTTP"
    )
    worker.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help="seconds between delivery rounds (default VCM_WEBHOOK_DELIVERY_INTERVAL, or 2)",
    )
    worker.set_defaults(func=cmd_worker)


async def _run(url: str, settings: Settings, interval: float) -> None:
    from app.audit import worker as audit_worker
    from app.db import make_engine, make_sessionmaker
    from app.keys import load_keyring
    from app.services.webhooks import worker as webhook_worker

    keys = load_keyring(settings)
    engine = make_engine(url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with (
            audit_worker.running(
                sessionmaker,
                keys,
                interval_seconds=settings.audit_seal_interval_seconds,
                checkpoint_interval=timedelta(seconds=settings.audit_checkpoint_interval_seconds),
            ),
            webhook_worker.running(sessionmaker, keys, settings, interval_seconds=interval),
        ):
            await stop.wait()
    finally:
        await engine.dispose()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    from app.cli import CommandError, database
    from app.keys import check_production

    check_production(settings)
    interval = (
        args.interval if args.interval is not None else settings.webhook_delivery_interval_seconds
    )
    if interval <= 0:
        interval = 2.0  # the worker's whole purpose is the loop; 0 would run nothing
    with database(settings) as url:
        print("Worker running: webhook deliveries and the audit sealer (Ctrl-C stops it).")
        try:
            asyncio.run(_run(url, settings, interval))
        except OSError as exc:
            raise CommandError(f"Worker stopped: {type(exc).__name__}") from exc
