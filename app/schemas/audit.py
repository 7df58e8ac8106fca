"""API shapes of the audit trail. Events hold names and ids only, never values."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class AuditEventPublic(BaseModel):
    seq: int | None = Field(description="Position in the hash chain; null until sealed.")
    id: int
    occurred_at: datetime
    actor_type: str
    actor_id: uuid.UUID | None
    actor_agency_id: uuid.UUID | None
    actor_role: str | None
    token_id: str | None
    client_address: str | None
    request_id: str | None
    action: str
    resource_type: str
    resource_id: str | None
    person_id: uuid.UUID | None = Field(description="The person concerned (pseudonymous id).")
    fields: list[str] = Field(description="Names of the fields revealed or changed.")
    purpose: str | None
    emergency: bool
    outcome: Literal["success", "denied", "error"]
    reason: str | None
    prev_hash: str | None = Field(description="Hex SHA-256; null until sealed.")
    hash: str | None


class AccessLogEntry(BaseModel):
    """One line of a record's access log: who read or changed it, when, and why."""

    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_agency_id: uuid.UUID | None
    actor_role: str | None
    action: str
    fields: list[str]
    purpose: str | None
    emergency: bool
    outcome: Literal["success", "denied", "error"]
    reason: str | None


class VerifyResult(BaseModel):
    ok: bool
    checked: int = Field(description="Events whose links were recomputed and found sound.")
    first_bad_seq: int | None = Field(description="The first chain position that fails.")
    head_hash: str | None = Field(description="Hex hash of the chain's last seal.")
    reason: str | None = Field(
        default=None,
        description="What failed at first_bad_seq: sequence_gap, broken_link, "
        "missing_event, hash_mismatch, checkpoint_mismatch, truncated, bad_checkpoint, "
        "unsealed_event.",
    )


class CheckpointPublic(BaseModel):
    """A signed head of the chain; `signature` is Ed25519 over the canonical JSON of
    {type, chain_seq, head_hash, created_at, key_id} (base64url, no padding)."""

    type: str
    chain_seq: int
    head_hash: str
    created_at: str
    key_id: str
    signature: str
    public_key: str
