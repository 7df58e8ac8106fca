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
    # Completing a `consent_withdrawal`: the consents of the case it ends (required
    # for that kind, refused for the others).
    consent_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=20)


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


class ExportIdentity(BaseModel):
    erased: bool
    full_name: str | None
    other_names: str | None
    date_of_birth: str | None
    national_id: str | None
    phone: str | None
    address: str | None
    ethnicity: str | None
    sex: str | None
    nationality: str | None
    hometown_province_code: str | None


class ExportCase(BaseModel):
    id: uuid.UUID
    case_number: str
    status: str
    received_at: datetime


class ExportStep(BaseModel):
    occurred_at: datetime
    kind: str
    from_status: str | None
    to_status: str | None


class ExportService(BaseModel):
    type: str
    service_date: date
    quantity: int
    unit: str
    status: str
    provider: str | None


class ExportConsent(BaseModel):
    scope: str
    given_by: str
    given_at: datetime
    expires_at: datetime | None
    status: str
    withdrawn_at: datetime | None


class ExportDisclosure(BaseModel):
    agency_id: uuid.UUID
    agency: str
    purpose: str
    legal_basis: str
    shared_fields: list[str]
    disclosed_at: datetime


class PersonExport(BaseModel):
    """A person's own data, in clear, given to them on an `access` request."""

    data_request_id: uuid.UUID
    person_id: uuid.UUID
    generated_at: datetime
    identity: ExportIdentity
    case: ExportCase
    steps: list[ExportStep]
    services: list[ExportService]
    consents: list[ExportConsent]
    # Every agency the case's data was sent to (the accounting of disclosures).
    disclosures: list[ExportDisclosure]
