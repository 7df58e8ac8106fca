"""Request and response shapes of a case's initial verification record."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from app.models.verification import VerificationOutcome
from app.schemas.common import StrictInput


class VerificationCreate(StrictInput):
    outcome: VerificationOutcome
    completed_at: AwareDatetime = Field(
        description="When the verification was done: not in the future, not before the "
        "case was received."
    )
    agency_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=20,
        description="The agencies that verified (social affairs with the provincial police): "
        "active agencies whose kind may verify.",
    )
    note: str | None = Field(
        default=None, min_length=1, max_length=10_000, description="Stored encrypted."
    )


class VerificationPublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    outcome: VerificationOutcome
    completed_at: datetime
    agency_ids: list[uuid.UUID]
    # Omitted (null) in the answer to the create, which is kept for replays, and for a
    # participant reading a note another agency wrote.
    note: str | None
    recorded_by: uuid.UUID
    agency_id: uuid.UUID = Field(description="The agency of the person who recorded it.")
    created_at: datetime
