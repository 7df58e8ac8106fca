"""Request and response shapes of a case's criminal proceedings."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.domain.criminal import ProceedingOutcome, ProceedingStage
from app.schemas.common import StrictInput

# A criminal case's or crime report's reference as the investigating body writes it
# ("Vụ án số 12/2026/CSHS", "TB 45/PC02").
REFERENCE_MAX = 100


class CriminalProceedingCreate(StrictInput):
    # Defaults to the recording agency (police or border guard).
    investigating_agency_id: uuid.UUID | None = None
    reference: str = Field(min_length=1, max_length=REFERENCE_MAX)
    stage: ProceedingStage = ProceedingStage.REPORTED
    outcome: ProceedingOutcome | None = None


class CriminalProceedingUpdate(StrictInput):
    """Only the fields given change; the stage moves forward only."""

    investigating_agency_id: uuid.UUID | None = None
    reference: str | None = Field(default=None, min_length=1, max_length=REFERENCE_MAX)
    stage: ProceedingStage | None = None
    outcome: ProceedingOutcome | None = None


class CriminalProceedingPublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    investigating_agency_id: uuid.UUID
    # Omitted (null) in the answer to the create, which is kept for replays.
    reference: str | None
    stage: ProceedingStage
    outcome: ProceedingOutcome | None
    opened_at: datetime
    stage_changed_at: datetime
    # When the proceedings first moved past investigation (a report of crime
    # resolved) and when they were tried; null until then.
    resolved_at: datetime | None
    tried_at: datetime | None
    agency_id: uuid.UUID
    recorded_by: uuid.UUID
    version: int
    updated_at: datetime
