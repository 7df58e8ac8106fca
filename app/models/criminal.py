"""The criminal proceedings a victim's case belongs to (`app.domain.criminal`).

The criminal case's reference number is ciphertext under the case victim's data key
(`app.services.cases.case_text`): it names the proceedings against the trafficker
and, with them, the victim. Every other column is a code, a time or an id.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, LargeBinary
from sqlmodel import Field, SQLModel

from app.domain.criminal import ProceedingOutcome, ProceedingStage
from app.models.base import timestamp_column, utcnow, uuid_pk


def _in(values: type[ProceedingStage] | type[ProceedingOutcome]) -> str:
    return ", ".join(repr(v.value) for v in values)


class CriminalProceeding(SQLModel, table=True):
    """One criminal proceeding (tin báo / vụ án hình sự) a case belongs to; a case may
    belong to several."""

    __tablename__ = "criminal_proceedings"
    __table_args__ = (
        CheckConstraint(f"stage IN ({_in(ProceedingStage)})", name="stage"),
        CheckConstraint(
            f"outcome IS NULL OR outcome IN ({_in(ProceedingOutcome)})", name="outcome"
        ),
        CheckConstraint(
            "(stage IN ('tried', 'closed')) OR outcome IS NULL", name="outcome_only_when_decided"
        ),
        CheckConstraint("stage <> 'closed' OR outcome IS NOT NULL", name="closed_has_outcome"),
        CheckConstraint(
            "stage NOT IN ('prosecuted', 'tried') OR resolved_at IS NOT NULL", name="resolved"
        ),
        CheckConstraint("stage <> 'tried' OR tried_at IS NOT NULL", name="tried"),
        Index("ix_criminal_proceedings_case_opened", "case_id", "opened_at"),
        Index("ix_criminal_proceedings_resolved_at", "resolved_at"),
        Index("ix_criminal_proceedings_tried_at", "tried_at"),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    investigating_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    reference: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    stage: str = Field(max_length=16)
    outcome: str | None = Field(default=None, max_length=16)
    opened_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    stage_changed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # When the proceedings first moved past investigation / were tried (the returns).
    resolved_at: datetime | None = timestamp_column()
    tried_at: datetime | None = timestamp_column()
    # The recording agency and user.
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    recorded_by: uuid.UUID = Field(foreign_key="users.id")
    version: int = Field(default=1)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
