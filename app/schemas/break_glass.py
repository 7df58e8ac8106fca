"""Request and response shapes of break-glass reads and their review."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, Field

from app.audit.writer import PURPOSES
from app.domain.break_glass import Verdict
from app.schemas.common import StrictInput

PurposeCode = Literal[
    "case_management",
    "investigation",
    "protection",
    "support_delivery",
    "legal_proceedings",
    "emergency",
]
assert frozenset(get_args(PurposeCode)) == PURPOSES, "purposes of use changed"

REASON_MAX = 2000


class BreakGlassCreate(StrictInput):
    # Why the case must be read now, outside normal access (stored encrypted).
    reason: str = Field(min_length=10, max_length=REASON_MAX)
    purpose: PurposeCode


class BreakGlassReview(StrictInput):
    verdict: Verdict
    # The auditor's note (stored encrypted).
    note: str | None = Field(default=None, max_length=REASON_MAX)


class BreakGlassPublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    user_id: uuid.UUID
    agency_id: uuid.UUID
    purpose: PurposeCode
    # Shown to the auditors reviewing it; left out (null) of the answer to the create.
    reason: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    reviewed_at: datetime | None
    reviewed_by: uuid.UUID | None
    verdict: Verdict | None
    note: str | None
