"""The hash chain: a sealer links committed events in a final order, after commit.

Design
------
Writers never touch the chain. `record()` inserts an event row with `txid`, the
writing transaction's id (`pg_current_xact_id()`, 64-bit, never reused). The sealer,
one at a time across all workers and hosts (a transaction-level PostgreSQL advisory
lock), then:

1. reads `xmin` of a fresh snapshot: every transaction with a smaller id has ended,
   committed or rolled back, and no new one can get such an id;
2. takes the events with `txid < xmin` after the last sealed one, in `(txid, id)`
   order (an index), and
3. appends one row per event to `audit_seals`: `chain_seq` (1, 2, 3, ... with no
   gap), `prev_hash` (the previous seal's hash, 32 zero bytes for the first) and
   `hash = SHA-256(prev_hash || canonical JSON of the event and its chain_seq)`.

Guarantees
----------
- No fork: only the lock holder appends, and it continues from the stored head.
- No lost or late event: an event is sealed once its transaction has ended; no event
  can later appear below the sealed position (`txid < xmin` is final), so a single
  watermark suffices. A rolled-back transaction leaves a gap in `audit_events.id`,
  never in `chain_seq`, which is what verification numbers.
- No global lock on the API: requests only INSERT; the lock is the sealer's alone.
  A long-running write transaction delays sealing of later events (never loses them).
- Tamper evidence: the event rows, the seals and the checkpoints refuse UPDATE,
  DELETE and TRUNCATE (triggers); someone who bypasses them (table owner, superuser)
  is caught by `app.audit.verify`: an edited event no longer hashes to its seal, a
  deleted event leaves a seal without its event, a deleted seal leaves a gap or a
  broken `prev_hash`, an inserted or reordered event breaks the link at its position,
  and a rewritten tail no longer matches the signed checkpoints kept outside.
- What it cannot prove: that an event was never written. A forged event appended at
  the head by someone with INSERT rights is sealed like any other; checkpoints
  bound this to events after the last exported checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.audit import AuditEvent, AuditSeal

GENESIS = bytes(32)
# Advisory lock key of the sealer ("vcm audit seal"): one sealer at a time, everywhere.
SEALER_LOCK = 0x7663_6D5F_6175_6474
# Events hashed per batch. The hashing runs on the event loop of a serving worker,
# so a batch is kept small enough (about 8 ms of CPU) not to stall the requests that
# worker is answering; each batch's INSERT gives them their turn.
SEAL_BATCH = 250

EVENT_COLUMNS = (
    "id",
    "txid",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_agency_id",
    "actor_role",
    "token_id",
    "client_address",
    "request_id",
    "action",
    "resource_type",
    "resource_id",
    "person_id",
    "fields",
    "purpose",
    "emergency",
    "outcome",
    "reason",
)


_UUID_COLUMNS = ("actor_id", "actor_agency_id", "person_id")
_PLAIN_COLUMNS = tuple(
    name for name in EVENT_COLUMNS if name not in (*_UUID_COLUMNS, "occurred_at", "fields")
)


_INSERT_SEAL = insert(AuditSeal.metadata.tables[AuditSeal.__tablename__])


def _utc_text(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical_event(event: Mapping[Any, Any], chain_seq: int) -> bytes:
    """The bytes an event is hashed as: sorted keys, no spaces, ASCII, UTC microseconds.

    The chain position is part of it, so moving an event to another place breaks it.
    (Column by column rather than a generic converter: verification speed is this.)
    """
    doc = {name: event[name] for name in _PLAIN_COLUMNS}
    for name in _UUID_COLUMNS:
        value = event[name]
        doc[name] = None if value is None else str(value)
    doc["occurred_at"] = _utc_text(event["occurred_at"])
    doc["fields"] = list(event["fields"])
    doc["seq"] = chain_seq
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def link(prev_hash: bytes, event: Mapping[Any, Any], chain_seq: int) -> bytes:
    return hashlib.sha256(prev_hash + canonical_event(event, chain_seq)).digest()


@dataclass(frozen=True)
class Head:
    """The last link of the chain (seq 0 and the genesis hash when it is empty)."""

    chain_seq: int
    hash: bytes
    event_txid: int
    event_id: int


EMPTY_HEAD = Head(0, GENESIS, -1, -1)


async def chain_head(session: AsyncSession) -> Head:
    row = (
        await session.execute(
            select(
                col(AuditSeal.chain_seq),
                col(AuditSeal.hash),
                col(AuditSeal.event_txid),
                col(AuditSeal.event_id),
            )
            .order_by(col(AuditSeal.chain_seq).desc())
            .limit(1)
        )
    ).one_or_none()
    return EMPTY_HEAD if row is None else Head(row[0], row[1], row[2], row[3])


def event_columns() -> list[Any]:
    return [getattr(AuditEvent, name) for name in EVENT_COLUMNS]


async def seal(session: AsyncSession, *, wait: bool = True, limit: int | None = None) -> int | None:
    """Chain every ended, unsealed event; returns how many were sealed.

    Runs in the caller's transaction, which must commit for the seals to count, and
    holds the sealer lock until then. `wait=False` returns 0 at once when another
    sealer holds the lock (the background worker); `wait=True` waits for it (before
    verifying, so that everything committed earlier is covered).
    """
    if wait:
        await session.execute(select(func.pg_advisory_xact_lock(SEALER_LOCK)))
    else:
        got = (
            await session.execute(select(func.pg_try_advisory_xact_lock(SEALER_LOCK)))
        ).scalar_one()
        if not got:
            return None
    horizon = (
        await session.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
    ).scalar_one()
    head = await chain_head(session)
    sealed = 0
    while limit is None or sealed < limit:
        batch = SEAL_BATCH if limit is None else min(SEAL_BATCH, limit - sealed)
        rows = (
            (
                await session.execute(
                    select(*event_columns())
                    .where(
                        col(AuditEvent.txid) >= head.event_txid,
                        col(AuditEvent.txid) < horizon,
                        tuple_(col(AuditEvent.txid), col(AuditEvent.id))
                        > tuple_(head.event_txid, head.event_id),
                    )
                    .order_by(col(AuditEvent.txid), col(AuditEvent.id))
                    .limit(batch)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            break
        seals = []
        prev, seq = head.hash, head.chain_seq
        for event in rows:
            seq += 1
            digest = link(prev, event, seq)
            seals.append(
                {
                    "chain_seq": seq,
                    "event_id": event["id"],
                    "event_time": event["occurred_at"],
                    "event_txid": event["txid"],
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        await session.execute(_INSERT_SEAL, seals)
        last = rows[-1]
        head = Head(seq, prev, last["txid"], last["id"])
        sealed += len(rows)
    return sealed


async def ensure_partitions(session: AsyncSession, months_ahead: int = 1) -> int:
    """Create missing partitions (this and the next month of events, the seal blocks
    around the head); returns how many were created. Commit promptly: creating one
    briefly locks the parent table."""
    return int(
        (
            await session.execute(
                text("SELECT audit_ensure_partitions(:ahead)"), {"ahead": months_ahead}
            )
        ).scalar_one()
    )
