"""`vcm audit ...`: verify the chain, seal and checkpoint now, export checkpoints.

Verification and export are themselves recorded (actor: the system).

Exit codes: 0 the chain verifies (or the command did its work); 1 tampering found
(the first bad sequence number is printed); 2 usage or configuration errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.writer import record
from app.config import Settings

T = TypeVar("T")


def register(subparsers: Any) -> None:
    """Add `audit` and its subcommands to the `vcm` parser."""
    audit = subparsers.add_parser("audit", help="the hash-chained audit trail")
    sub = audit.add_subparsers(dest="audit_command", required=True)

    verify = sub.add_parser(
        "verify", help="seal, then recompute the chain; exit 1 and name the first bad seq"
    )
    verify.add_argument(
        "--from-checkpoint",
        action="store_true",
        help="start at the latest signed checkpoint instead of seq 1",
    )
    verify.add_argument(
        "--checkpoints",
        type=Path,
        metavar="FILE",
        help="also check against checkpoints exported earlier (JSON lines) and kept outside",
    )
    verify.add_argument(
        "--no-seal", action="store_true", help="verify only what is sealed (read only)"
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(func=cmd_verify)

    checkpoint = sub.add_parser("checkpoint", help="seal now and sign a checkpoint of the head")
    checkpoint.set_defaults(func=cmd_checkpoint)

    export = sub.add_parser(
        "export-checkpoints", help="print every signed checkpoint as JSON lines"
    )
    export.add_argument("--output", type=Path, metavar="FILE", help="write here, not stdout")
    export.set_defaults(func=cmd_export_checkpoints)


def _run(
    settings: Settings, work: Callable[[async_sessionmaker[AsyncSession], Any], Awaitable[T]]
) -> T:
    """Start the database (embedded unless DATABASE_URL), migrate, run `work`."""
    from app.cli import _migrate, database
    from app.db import make_engine, make_sessionmaker
    from app.keys import load_keyring

    keys = load_keyring(settings)
    with database(settings) as url:
        _migrate(url)

        async def main() -> T:
            engine = make_engine(url, pool_size=2)
            try:
                return await work(make_sessionmaker(engine), keys)
            finally:
                await engine.dispose()

        return asyncio.run(main())


def cmd_verify(args: argparse.Namespace, settings: Settings) -> None:
    from app.audit.checkpoints import parse_lines
    from app.audit.verify import VerifyReport, verify
    from app.audit.worker import seal_round
    from app.cli import EXIT_USAGE, CommandError

    external = []
    if args.checkpoints is not None:
        try:
            external = parse_lines(args.checkpoints.read_text().splitlines())
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {args.checkpoints}: {exc}", EXIT_USAGE) from exc

    async def work(sessionmaker: async_sessionmaker[AsyncSession], keys: Any) -> VerifyReport:
        if not args.no_seal:
            await seal_round(sessionmaker, keys, wait=True, checkpoint_interval=None)
        async with sessionmaker() as session:
            report = await verify(
                session, keys, from_checkpoint=args.from_checkpoint, external=external
            )
            await record(
                session,
                action="audit_chain.verify",
                resource_type="audit_chain",
                resource_id=None if report.ok else str(report.first_bad_seq),
                reason=None if report.ok else "chain_broken",
            )
            await session.commit()
            return report

    report = _run(settings, work)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked": report.checked,
                    "first_bad_seq": report.first_bad_seq,
                    "head_hash": report.head_hash,
                    "reason": report.reason,
                }
            )
        )
    elif report.ok:
        print(
            f"Audit chain verified: {report.checked} events, "
            f"{report.checkpoints_checked} checkpoints, head {report.head_hash or '(empty)'}."
        )
    if not report.ok:
        raise CommandError(
            f"Audit chain broken at seq {report.first_bad_seq} ({report.reason}); "
            f"{report.checked} events verified before it."
        )


def cmd_checkpoint(args: argparse.Namespace, settings: Settings) -> None:
    from app.audit.worker import SealRound, seal_round

    async def work(sessionmaker: async_sessionmaker[AsyncSession], keys: Any) -> SealRound:
        return await seal_round(sessionmaker, keys, wait=True, checkpoint_interval=timedelta(0))

    result = _run(settings, work)
    made = "a new checkpoint was signed" if result.checkpointed else "no new checkpoint needed"
    print(f"Sealed {result.sealed or 0} events; {made}.")


def cmd_export_checkpoints(args: argparse.Namespace, settings: Settings) -> None:
    from app.audit.checkpoints import export_lines, stored_checkpoints

    async def work(sessionmaker: async_sessionmaker[AsyncSession], keys: Any) -> list[str]:
        async with sessionmaker() as session:
            lines = export_lines(await stored_checkpoints(session), keys)
            await record(
                session, action="audit_checkpoint.export", resource_type="audit_checkpoint"
            )
            await session.commit()
            return lines

    lines = _run(settings, work)
    text = "".join(line + "\n" for line in lines)
    if args.output is not None:
        args.output.write_text(text)
        print(f"Wrote {len(lines)} checkpoints to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
