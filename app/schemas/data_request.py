"""Request and response shapes of the register of data subjects' requests."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field

from app.domain.data_requests import Channel, Requester, RequestKind, RequestStatus
from app.schemas.common import StrictInput

TEXT_MAX = 2000


class DataRequestCreate(StrictInput):
    case_id: uuid.UUID
    # The victim of the case or another person of it.
    person_id: uuid.UUID
    kind: RequestKind
    # When the request reached the agency (not in the future).
    received_at: AwareDatetime
    channel: Channel
    requester: Requester
    # Whether the requester's identity (or the representative's authority) was checked.
    identity_checked: bool
    # Free text (stored encrypted under the person's data key).
    note: str | None = Field(default=None, max_length=TEXT_MAX)


class DataRequestClose(StrictInput):
    # What was done (required to complete), stored encrypted.
    outcome: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    # Why (required to reject), stored encrypted.
    reason: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)


class DataRequestPublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    person_id: uuid.UUID
    kind: RequestKind
    received_at: datetime
    channel: Channel
    requester: Requester
    identity_checked: bool
    # Last days (inclusive, Vietnam's dates): acknowledge within the working days,
    # complete within the calendar days of the settings.
    acknowledge_by: date
    complete_by: date
    # The request is acknowledged when it is entered in the register.
    acknowledged_at: datetime
    acknowledged_late: bool
    status: RequestStatus
    # Open past `complete_by`.
    overdue: bool
    # Left out (null) of the answer to the create, which replays may return.
    note: str | None
    outcome: str | None
    reason: str | None
    recorded_by: uuid.UUID
    closed_at: datetime | None
    closed_by: uuid.UUID | None
