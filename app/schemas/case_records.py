"""Request and response shapes of a case's records: evidence, identification,
protection measures, consents. Responses list their fields; none inherits a table."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from app.models.case_records import (
    ConsentGiver,
    ConsentScope,
    ConsentStatus,
    EvidenceSource,
    IdentificationOutcome,
    ProtectedPerson,
    ProtectionMeasureKind,
    ProtectionStatus,
)
from app.schemas.common import StrictInput


class EvidenceCreate(StrictInput):
    source: EvidenceSource
    description: str = Field(min_length=1, max_length=10_000)
    obtained_at: AwareDatetime | None = None
    document_ref: str | None = Field(default=None, max_length=200)


class EvidencePublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    source: EvidenceSource
    # Omitted (null) in the answer to the create, which is kept for replays.
    description: str | None
    obtained_at: datetime | None
    document_ref: str | None
    recorded_by: uuid.UUID
    agency_id: uuid.UUID
    created_at: datetime


class IdentificationCreate(StrictInput):
    decision: IdentificationOutcome
    decided_at: AwareDatetime
    legal_basis: str = Field(min_length=1, max_length=2_000)
    evidence_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
    certificate_number: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _certificate_only_for_victims(self) -> IdentificationCreate:
        if self.certificate_number and self.decision is not IdentificationOutcome.VICTIM:
            raise ValueError("certificate_number is only issued with the decision 'victim'")
        return self


class IdentificationPublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    decision: IdentificationOutcome
    decided_at: datetime
    # Both omitted (null) in the answer to the decision, which is kept for replays.
    legal_basis: str | None
    evidence_ids: list[uuid.UUID]
    certificate_number: str | None
    decided_by: uuid.UUID
    agency_id: uuid.UUID
    case_status: str
    created_at: datetime


class ProtectionMeasureCreate(StrictInput):
    measure: ProtectionMeasureKind
    protected_person: ProtectedPerson
    protected_person_id: uuid.UUID | None = None
    start: date
    end: date | None = None
    status: ProtectionStatus = ProtectionStatus.PLANNED
    refusal_reason: str | None = Field(default=None, min_length=1, max_length=2_000)
    responsible_agency_id: uuid.UUID


class ProtectionMeasureUpdate(StrictInput):
    """Only the fields given change; `refusal_reason` is required to set `refused`."""

    start: date | None = None
    end: date | None = None
    status: ProtectionStatus | None = None
    refusal_reason: str | None = Field(default=None, min_length=1, max_length=2_000)
    responsible_agency_id: uuid.UUID | None = None


class ProtectionMeasurePublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    measure: ProtectionMeasureKind
    protected_person: ProtectedPerson
    protected_person_id: uuid.UUID | None
    start: date
    end: date | None
    status: ProtectionStatus
    # Omitted (null) in the answer to the create, which is kept for replays.
    refusal_reason: str | None
    responsible_agency_id: uuid.UUID
    version: int
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime


class ConsentCreate(StrictInput):
    scope: ConsentScope
    given_by: ConsentGiver
    given_at: AwareDatetime
    expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _expiry_after_given(self) -> ConsentCreate:
        if self.expires_at is not None and self.expires_at <= self.given_at:
            raise ValueError("expires_at must be after given_at")
        return self


class ConsentPublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    scope: ConsentScope
    given_by: ConsentGiver
    given_at: datetime
    expires_at: datetime | None
    status: ConsentStatus
    # False once withdrawn or past `expires_at`.
    in_force: bool
    withdrawn_at: datetime | None
    withdrawn_by: uuid.UUID | None
    recorded_by: uuid.UUID
    created_at: datetime
