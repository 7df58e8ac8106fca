"""`vcm retention run [--dry-run]`: crypto-shred the identities of the persons of
cases closed longer ago than `VCM_IDENTITY_RETENTION_DAYS` (`app.services.retention`).
Without that setting nothing is erased. The dry run prints the counts only."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from app.config import Settings


def register(subparsers: Any) -> None:
    retention = subparsers.add_parser("retention", help="identity retention after a case is closed")
    sub = retention.add_subparsers(dest="retention_command", required=True)
    run = sub.add_parser("run", help="crypto-shred the identities past VCM_IDENTITY_RETENTION_DAYS")
    run.add_argument("--dry-run", action="store_true", help="count only, change nothing")
    run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace, settings: Settings) -> None:
    from app.cli import database
    from app.services import retention

    days = settings.identity_retention_days
    if days is None:
        print("VCM_IDENTITY_RETENTION_DAYS is not set: identities are kept; nothing to do.")
        return

    async def run(url: str) -> retention.RetentionResult:
        from app.db import make_engine, make_sessionmaker

        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                result = await retention.run(
                    session, days=days, now=datetime.now(UTC), dry_run=args.dry_run
                )
                if args.dry_run:
                    await session.rollback()
                else:
                    await session.commit()
                return result
        finally:
            await engine.dispose()

    with database(settings) as url:
        result = asyncio.run(run(url))
    if args.dry_run:
        print(
            f"Dry run: {result.persons} person(s) of {result.cases} case(s) closed more "
            f"than {days} days ago would be erased."
        )
    else:
        print(
            f"Erased the identity of {result.erased} person(s) of {result.cases} case(s) "
            f"closed more than {days} days ago."
        )
