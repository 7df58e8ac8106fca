"""The verifier: recompute the chain and name the first bad sequence number.

Rule: starting from seq 1 and the genesis hash (or from the latest checkpoint whose
signature holds), every seal must follow the previous one without a gap, carry the
previous hash as `prev_hash`, point at an event that exists, and that event must hash
to the seal's `hash`. Every checkpoint (stored, or given from an outside copy) must be
signed by the key ring's audit key and match the chain at its sequence; a checkpoint
beyond the chain's end means the tail was cut off. Finally no event may sit unsealed
below the head (one slipped in with a forged old position).

What each tampering reports: an edited event, its seq (`hash_mismatch`); a deleted
event, its seq (`missing_event`); a deleted seal, its seq (`sequence_gap`, or
`broken_link` if the later seals were renumbered); an inserted or reordered event, the
first seq whose content or link no longer fits; a truncated tail, the first missing
seq (`truncated`); a chain rewritten consistently, the first seq after the last
checkpoint it still matches (`checkpoint_mismatch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit.chain import GENESIS, chain_head, event_columns, link
from app.audit.checkpoints import Checkpoint, signature_valid, stored_checkpoints
from app.models.audit import AuditEvent, AuditSeal
from app.security.keyring import KeyProvider

VERIFY_BATCH = 5000


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked: int
    first_bad_seq: int | None
    head_hash: str | None
    reason: str | None = None
    checkpoints_checked: int = 0


@dataclass
class _Failure:
    seq: int
    reason: str


def _earliest(*failures: _Failure | None) -> _Failure | None:
    found = [f for f in failures if f is not None]
    return min(found, key=lambda f: f.seq) if found else None


async def verify(
    session: AsyncSession,
    keys: KeyProvider,
    *,
    from_checkpoint: bool = False,
    external: Sequence[Checkpoint] = (),
    batch: int = VERIFY_BATCH,
) -> VerifyReport:
    """Check the chain (see the module docstring); reads only, never writes."""
    head = await chain_head(session)
    checkpoints = [*await stored_checkpoints(session), *external]
    valid = {id(c): signature_valid(c, keys) for c in checkpoints}
    bad_signature = _earliest(
        *(_Failure(c.chain_seq, "bad_checkpoint") for c in checkpoints if not valid[id(c)])
    )
    trusted = {c.chain_seq: c for c in checkpoints if valid[id(c)]}

    start, prev = 1, GENESIS
    if from_checkpoint:
        usable = [seq for seq in trusted if seq <= head.chain_seq]
        if usable:
            # b"" means: take the first seal's prev_hash; its hash is then checked
            # against the checkpoint's.
            start, prev = max(usable), b""
    walk, checked, last_seq, last_good_cp = await _walk(
        session, start, prev, head.chain_seq, trusted, batch
    )

    truncated = None
    beyond = [seq for seq in trusted if seq > last_seq]
    if beyond and walk is None:
        truncated = _Failure(last_seq + 1, "truncated")
    unsealed = None
    if walk is None and truncated is None and checked:
        unsealed = await _unsealed_below_head(session, start, checked)
    failure = _earliest(walk, truncated, unsealed, bad_signature)
    if failure is not None and failure.reason == "checkpoint_mismatch":
        failure.seq = last_good_cp + 1
    return VerifyReport(
        ok=failure is None,
        checked=checked,
        first_bad_seq=None if failure is None else failure.seq,
        head_hash=None if head.chain_seq == 0 else head.hash.hex(),
        reason=None if failure is None else failure.reason,
        checkpoints_checked=len([s for s in trusted if s <= last_seq]),
    )


async def _walk(
    session: AsyncSession,
    start: int,
    prev: bytes,
    end: int,
    checkpoints: dict[int, Checkpoint],
    batch: int,
) -> tuple[_Failure | None, int, int, int]:
    """Recompute the links from `start` to the head `end` read before (seals appended
    meanwhile are left for the next run); returns (failure, checked, last seq seen,
    seq of the last checkpoint matched)."""
    expected, checked, last_good_cp = start, 0, start - 1
    statement = (
        select(
            col(AuditSeal.chain_seq),
            col(AuditSeal.prev_hash),
            col(AuditSeal.hash),
            col(AuditSeal.event_txid),
            col(AuditEvent.id).label("present"),
            *event_columns(),
        )
        .select_from(AuditSeal)
        .outerjoin(
            AuditEvent,
            and_(
                col(AuditEvent.id) == col(AuditSeal.event_id),
                col(AuditEvent.occurred_at) == col(AuditSeal.event_time),
            ),
        )
        .order_by(col(AuditSeal.chain_seq))
        .limit(batch)
    )
    while True:
        rows = (
            (
                await session.execute(
                    statement.where(col(AuditSeal.chain_seq).between(expected, end))
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            return None, checked, expected - 1, last_good_cp
        for row in rows:
            seq = row["chain_seq"]
            if seq != expected:
                return _Failure(expected, "sequence_gap"), checked, seq, last_good_cp
            if prev and row["prev_hash"] != prev:
                return _Failure(seq, "broken_link"), checked, seq, last_good_cp
            if row["present"] is None:
                return _Failure(seq, "missing_event"), checked, seq, last_good_cp
            digest = link(row["prev_hash"], row, seq)
            if digest != row["hash"] or row["txid"] != row["event_txid"]:
                return _Failure(seq, "hash_mismatch"), checked, seq, last_good_cp
            checkpoint = checkpoints.get(seq)
            if checkpoint is not None:
                if checkpoint.head_hash != digest:
                    return _Failure(seq, "checkpoint_mismatch"), checked, seq, last_good_cp
                last_good_cp = seq
            prev, expected, checked = digest, seq + 1, checked + 1


async def _unsealed_below_head(session: AsyncSession, start: int, checked: int) -> _Failure | None:
    """An event ordered inside the verified span but not sealed was slipped in with a
    forged position (the sealer seals every event below its watermark)."""
    bounds = (
        await session.execute(
            select(col(AuditSeal.event_txid), col(AuditSeal.event_id))
            .where(col(AuditSeal.chain_seq).in_([start, start + checked - 1]))
            .order_by(col(AuditSeal.chain_seq))
        )
    ).all()
    low, high = tuple(bounds[0]), tuple(bounds[-1])
    position = tuple_(col(AuditEvent.txid), col(AuditEvent.id))
    in_span = and_(position >= tuple_(*low), position <= tuple_(*high))
    total = (
        await session.execute(select(func.count()).select_from(AuditEvent).where(in_span))
    ).scalar_one()
    if total == checked:
        return None
    sealed_ids = select(col(AuditSeal.event_id)).where(
        col(AuditSeal.event_id) == col(AuditEvent.id)
    )
    stray = (
        await session.execute(
            select(col(AuditEvent.txid), col(AuditEvent.id))
            .where(in_span, ~sealed_ids.exists())
            .order_by(col(AuditEvent.txid), col(AuditEvent.id))
            .limit(1)
        )
    ).one_or_none()
    if stray is None:  # more seals than events is caught by the walk; be safe anyway
        return _Failure(start, "unsealed_event")
    after = (
        await session.execute(
            select(func.min(col(AuditSeal.chain_seq))).where(
                tuple_(col(AuditSeal.event_txid), col(AuditSeal.event_id)) > tuple_(*stray)
            )
        )
    ).scalar_one()
    return _Failure(int(after or start), "unsealed_event")
