"""The audit trail's tables: events, the seals that chain them, signed checkpoints.

The tables are partitioned and guarded by triggers in the migration
(`20261123_audit_trail`); these models describe the parent tables only. See
`app.audit.chain` for why the hash chain lives in a table of its own.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.models.base import empty_list

OUTCOMES = ("success", "denied", "error")
ACTOR_TYPES = ("user", "client", "system", "anonymous")


class AuditEvent(SQLModel, table=True):
    """One recorded access: who did what to which record, and how it ended.

    Holds names and ids only, never values: `fields` lists field names, `reason` is
    a code written by the program. Partitioned by month on `occurred_at`; `txid` is
    the writing transaction's id, which lets the sealer chain events in a final
    order (see `app.audit.chain`).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        PrimaryKeyConstraint("occurred_at", "id", name="pk_audit_events"),
        CheckConstraint("outcome IN ('success', 'denied', 'error')", name="outcome"),
        Index("ix_audit_events_txid_id", "txid", "id"),
        Index("ix_audit_events_resource", "resource_type", "resource_id", "occurred_at"),
        Index("ix_audit_events_actor", "actor_id", "occurred_at"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), nullable=False)
    )
    # The database's clock, not the host's: one clock for every worker and host, and a
    # skewed host cannot write into a month whose partition does not exist yet.
    occurred_at: datetime | None = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=text("statement_timestamp()")
        ),
    )
    txid: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger,
            nullable=False,
            server_default=text("(pg_current_xact_id()::text)::bigint"),
        ),
    )
    actor_type: str = Field(max_length=16)
    actor_id: uuid.UUID | None = Field(default=None)
    actor_agency_id: uuid.UUID | None = Field(default=None)
    actor_role: str | None = Field(default=None, max_length=32)
    token_id: str | None = Field(default=None, max_length=64)
    client_address: str | None = Field(default=None, max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64)
    resource_type: str = Field(max_length=32)
    resource_id: str | None = Field(default=None, max_length=64)
    person_id: uuid.UUID | None = Field(default=None)
    fields: list[str] = Field(
        default_factory=empty_list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )
    purpose: str | None = Field(default=None, max_length=32)
    emergency: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    outcome: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=200)


class AuditSeal(SQLModel, table=True):
    """The hash-chain link of one event, written by the sealer after the event commits.

    `chain_seq` is gap-free and is the sequence number verification reports;
    `hash = SHA-256(prev_hash || canonical JSON of the event and its chain_seq)`.
    Partitioned by ranges of `chain_seq`.
    """

    __tablename__ = "audit_seals"
    __table_args__ = (
        Index("ix_audit_seals_event", "event_id"),
        {"postgresql_partition_by": "RANGE (chain_seq)"},
    )

    chain_seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    event_txid: int = Field(sa_column=Column(BigInteger, nullable=False))
    prev_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    sealed_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement of the chain's head: sequence, hash and time (Ed25519).

    Exported and kept outside the system, it proves what the chain held at that time
    even against someone able to rewrite the whole database.
    """

    __tablename__ = "audit_checkpoints"

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, Identity(always=True), primary_key=True),
    )
    chain_seq: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    head_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    key_id: str = Field(sa_column=Column(String(64), nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False))
