"""Signed checkpoints: the chain's head (sequence, hash, time) signed with Ed25519.

A checkpoint is made by the sealer, under its lock, when the chain has grown since
the last one and `interval` has passed. Exported (`vcm audit export-checkpoints`,
`GET /api/v1/audit-events/checkpoints`) and kept outside the system, checkpoints let
`vcm audit verify --checkpoints FILE` catch a chain rewritten from the start by
someone who controls the whole database: the rewritten head no longer matches a
signature made with a key that never left the key ring.

The signed bytes are the canonical JSON of `{type, chain_seq, head_hash, created_at,
key_id}`; the export carries them with the signature and the public key, so anyone
can check a checkpoint with a standard Ed25519 library.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit.chain import chain_head
from app.models.audit import AuditCheckpoint
from app.security.keyring import KeyProvider

PAYLOAD_TYPE = "vcm-audit-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    chain_seq: int
    head_hash: bytes
    created_at: datetime
    key_id: str
    signature: bytes

    def payload(self) -> bytes:
        return signed_payload(self.chain_seq, self.head_hash, self.created_at, self.key_id)

    def to_export(self, public_key: Ed25519PublicKey | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": PAYLOAD_TYPE,
            "chain_seq": self.chain_seq,
            "head_hash": self.head_hash.hex(),
            "created_at": _time(self.created_at),
            "key_id": self.key_id,
            "signature": _b64(self.signature),
        }
        if public_key is not None:
            doc["public_key"] = _b64(public_key.public_bytes_raw())
        return doc

    @classmethod
    def from_export(cls, doc: Mapping[str, Any]) -> Checkpoint:
        """Parse one exported checkpoint; ValueError (or KeyError) when malformed."""
        if doc.get("type") != PAYLOAD_TYPE:
            raise ValueError("not an audit checkpoint")
        return cls(
            chain_seq=int(doc["chain_seq"]),
            head_hash=bytes.fromhex(str(doc["head_hash"])),
            created_at=datetime.fromisoformat(str(doc["created_at"]).replace("Z", "+00:00")),
            key_id=str(doc["key_id"]),
            signature=base64.urlsafe_b64decode(str(doc["signature"]) + "=="),
        )

    @classmethod
    def from_row(cls, row: AuditCheckpoint) -> Checkpoint:
        return cls(row.chain_seq, row.head_hash, row.created_at, row.key_id, row.signature)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_payload(chain_seq: int, head_hash: bytes, created_at: datetime, key_id: str) -> bytes:
    doc = {
        "type": PAYLOAD_TYPE,
        "chain_seq": chain_seq,
        "head_hash": head_hash.hex(),
        "created_at": _time(created_at),
        "key_id": key_id,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def signature_valid(checkpoint: Checkpoint, keys: KeyProvider) -> bool:
    """True when the key ring's audit key made this signature."""
    key = keys.audit_signing_key()
    if checkpoint.key_id != key.kid:
        return False
    try:
        key.public_key().verify(checkpoint.signature, checkpoint.payload())
    except InvalidSignature:
        return False
    return True


async def stored_checkpoints(session: AsyncSession) -> list[Checkpoint]:
    rows = (
        await session.execute(select(AuditCheckpoint).order_by(col(AuditCheckpoint.chain_seq)))
    ).scalars()
    return [Checkpoint.from_row(r) for r in rows]


async def make_checkpoint(
    session: AsyncSession, keys: KeyProvider, *, interval: timedelta | None = None
) -> Checkpoint | None:
    """Sign and store the current head, unless it is already checkpointed or the last
    checkpoint is younger than `interval`. Call it holding the sealer lock (after
    `seal()` in the same transaction) so the head cannot move underneath."""
    head = await chain_head(session)
    if head.chain_seq == 0:
        return None
    last = (
        await session.execute(
            select(AuditCheckpoint).order_by(col(AuditCheckpoint.chain_seq).desc()).limit(1)
        )
    ).scalar_one_or_none()
    now = datetime.now(UTC)
    if last is not None and (
        last.chain_seq >= head.chain_seq
        or (interval is not None and now - last.created_at < interval)
    ):
        return None
    key = keys.audit_signing_key()
    checkpoint = Checkpoint(head.chain_seq, head.hash, now, key.kid, b"")
    checkpoint = Checkpoint(head.chain_seq, head.hash, now, key.kid, key.sign(checkpoint.payload()))
    await session.execute(
        insert(AuditCheckpoint).values(
            chain_seq=checkpoint.chain_seq,
            head_hash=checkpoint.head_hash,
            created_at=checkpoint.created_at,
            key_id=checkpoint.key_id,
            signature=checkpoint.signature,
        )
    )
    return checkpoint


def export_lines(checkpoints: Iterable[Checkpoint], keys: KeyProvider) -> list[str]:
    """JSON lines, one checkpoint each, with the public key that checks it."""
    public = keys.audit_signing_key().public_key()
    return [json.dumps(c.to_export(public), sort_keys=True) for c in checkpoints]


def parse_lines(lines: Iterable[str]) -> list[Checkpoint]:
    """Checkpoints from exported JSON lines (blank lines skipped); ValueError if malformed."""
    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            found.append(Checkpoint.from_export(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {number} is not an exported audit checkpoint") from exc
    return found
