"""The initial verification (xác minh ban đầu) of a case: done, not started.

The law gives social affairs with the provincial police three days from intake to
verify a received person. Moving a case to `verifying` says the work has started;
this record says it is done: its outcome, when it was completed and which agencies
verified. Only the record meets the initial-verification deadline and counts as
"verified" in the returns (app/services/cases/verification.py).

The note is free text typed by a person, so it is ciphertext under the case victim's
data key (`app.services.cases.case_text`); every other column is a code, a date or
an id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, LargeBinary, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, empty_list, uuid_pk


class VerificationOutcome(StrEnum):
    GROUNDS_FOUND = "grounds_found"
    NO_GROUNDS = "no_grounds"
    INCONCLUSIVE = "inconclusive"


_OUTCOMES = ", ".join(f"'{o.value}'" for o in VerificationOutcome)


class CaseVerification(SQLModel, table=True):
    """The one initial verification of a case (a case has at most one: `case_id` is
    unique)."""

    __tablename__ = "case_verifications"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({_OUTCOMES})", name="outcome"),
        CheckConstraint("cardinality(agency_ids) > 0", name="agencies"),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE", unique=True)
    outcome: str = Field(max_length=16)
    # When the verification was done (the returns count it in this period).
    completed_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    # The agencies that verified (social affairs with the provincial police, ...).
    agency_ids: list[uuid.UUID] = Field(
        default_factory=empty_list, sa_column=Column(ARRAY(Uuid), nullable=False)
    )
    note: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    recorded_by: uuid.UUID = Field(foreign_key="users.id")
    # The agency of the person who recorded it (the lead or a participant).
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    created_at: datetime = created_at_column()
