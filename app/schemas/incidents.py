"""Request and response shapes of personal-data incidents and their notifications."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from app.domain.incidents import Nature, Recipient, Severity
from app.schemas.common import StrictInput

DESCRIPTION_MAX = 4000


class IncidentCreate(StrictInput):
    detected_at: AwareDatetime
    nature: Nature
    # What happened and what data it touches (stored encrypted).
    description: str = Field(min_length=10, max_length=DESCRIPTION_MAX)
    # How many persons' data it affects (an estimate; 0 when none known yet).
    persons_affected: int = Field(ge=0, le=100_000_000)
    severity: Severity


class NotificationCreate(StrictInput):
    recipient: Recipient
    notified_at: AwareDatetime


class NotificationPublic(BaseModel):
    id: uuid.UUID
    recipient: Recipient
    notified_at: datetime
    recorded_by: uuid.UUID
    created_at: datetime


class IncidentPublic(BaseModel):
    id: uuid.UUID
    agency_id: uuid.UUID
    detected_at: datetime
    nature: Nature
    severity: Severity
    persons_affected: int
    # Left out (null) of the answer to the create, which the idempotency store keeps.
    description: str | None
    # The authority is to be notified by then (`VCM_INCIDENT_NOTIFY_HOURS` after
    # detection, 72 by default).
    notify_by: datetime
    # No notification to the authority recorded, and `notify_by` has passed.
    overdue: bool
    notifications: list[NotificationPublic]
    created_at: datetime
    created_by: uuid.UUID
