"""Break-glass grants: emergency reads of a case outside the caller's normal access
(`app.services.break_glass`).

The reason and the auditor's note are typed by people and may name the victim, so
they are ciphertext under the case victim's data key (`app.services.cases.case_text`).
The access rule probes `(user_id, case_id, expires_at)` on every case read by a
principal who is not the lead, hence the index.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, LargeBinary, text
from sqlmodel import Field, SQLModel

from app.domain.break_glass import Verdict
from app.models.base import created_at_column, timestamp_column, uuid_pk


def _in(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


class BreakGlass(SQLModel, table=True):
    __tablename__ = "break_glass"
    __table_args__ = (
        CheckConstraint(f"verdict IS NULL OR verdict IN ({_in(Verdict)})", name="verdict"),
        CheckConstraint(
            "(verdict IS NULL) = (reviewed_at IS NULL) "
            "AND (verdict IS NULL) = (reviewed_by IS NULL)",
            name="reviewed",
        ),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
        # The access rule's probe.
        Index("ix_break_glass_user_case_expires", "user_id", "case_id", "expires_at"),
        # The auditors' queue: the unreviewed, oldest first.
        Index(
            "ix_break_glass_unreviewed",
            "created_at",
            postgresql_where=text("reviewed_at IS NULL"),
        ),
        Index("ix_break_glass_case", "case_id"),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id")
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    # A purpose-of-use code (`app.audit.PURPOSES`; the schema checks it).
    purpose: str = Field(max_length=32)
    reason: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = created_at_column()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # Ended early: an `unjustified` verdict given while the window is open.
    revoked_at: datetime | None = timestamp_column()
    reviewed_at: datetime | None = timestamp_column()
    reviewed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    verdict: str | None = Field(default=None, max_length=16)
    review_note: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
