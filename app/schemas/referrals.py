"""Referrals: request bodies and responses.

A referral's response carries its metadata and, while the receiver's access is
active, exactly the shared fields (`shared`); list items carry metadata only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from app.domain.entitlements import SupportType
from app.models.referral import (
    CompletionOutcome,
    LegalBasis,
    ReferralPurpose,
    ReferralStatus,
    RejectionReason,
    SharedField,
)
from app.schemas.common import Page, StrictInput

Text = Annotated[str, Field(min_length=1, max_length=2000)]


class ReferralAccess(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


class ReferralDirection(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class ReferralCreate(StrictInput):
    case_id: uuid.UUID
    to_agency_id: uuid.UUID
    purpose: ReferralPurpose
    services: list[SupportType] = Field(default_factory=list, max_length=20)
    shared_fields: list[SharedField] = Field(
        default_factory=list,
        max_length=len(SharedField),
        description="Dotted names of the case's fields the receiving agency may see.",
    )
    consent_id: uuid.UUID | None = Field(
        default=None,
        description="A `data_sharing` consent of the case in force now; required unless "
        "purpose is `investigation` or an `emergency_reason` is given.",
    )
    emergency_reason: Text | None = Field(
        default=None, description="Why data is shared without consent (encrypted)."
    )
    note: Text | None = Field(default=None, description="For the receiving agency (encrypted).")
    due_at: datetime | None = Field(
        default=None, description="Answer expected by then; default in VCM_REFERRAL_DUE_DAYS."
    )

    @field_validator("services", "shared_fields")
    @classmethod
    def _once_each(cls, values: list[Any]) -> list[Any]:
        return list(dict.fromkeys(values))


class ReferralAccept(StrictInput):
    note: Text | None = Field(default=None, description="The receiver's word (encrypted).")


class ReferralWaitlist(StrictInput):
    expected_at: AwareDatetime = Field(description="When the receiver expects to take it.")
    reason: Text | None = Field(default=None, description="Why not now (encrypted).")


class ReferralReject(StrictInput):
    reason_code: RejectionReason
    reason: Text | None = Field(
        default=None, description="Required with reason_code `other` (encrypted)."
    )


class ReferralComplete(StrictInput):
    outcome: CompletionOutcome
    note: Text | None = Field(default=None, description="The receiver's note (encrypted).")
    services_delivered: list[SupportType] | None = Field(
        default=None, max_length=20, description="Among the services referred."
    )


class ReferralCancel(StrictInput):
    reason: Text | None = Field(default=None, description="Why (encrypted).")


ReferralAction = (
    ReferralAccept | ReferralWaitlist | ReferralReject | ReferralComplete | ReferralCancel
)


class ReferralSummary(BaseModel):
    """A referral in a list: metadata only, no free text, no shared value."""

    id: uuid.UUID
    case_id: uuid.UUID
    from_agency_id: uuid.UUID
    to_agency_id: uuid.UUID
    purpose: ReferralPurpose
    services: list[SupportType]
    shared_fields: list[SharedField]
    legal_basis: LegalBasis
    status: ReferralStatus = Field(description="`expired` once due_at passed unanswered.")
    overdue: bool = Field(
        description="Still open past due_at (a waitlisted one: past expected_at)."
    )
    due_at: datetime
    expected_at: datetime | None = Field(description="When a waitlisted referral is expected.")
    reason_code: RejectionReason | None
    outcome: CompletionOutcome | None
    created_at: datetime
    decided_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None


class ReferralPublic(ReferralSummary):
    consent_id: uuid.UUID | None
    services_delivered: list[SupportType] | None
    note: str | None = Field(description="The sender's note.")
    emergency_reason: str | None
    reason: str | None = Field(
        description="Why it was rejected, waitlisted or cancelled, or the word on accepting."
    )
    outcome_note: str | None = Field(description="The receiver's note on completing.")
    access: ReferralAccess = Field(
        description="`active` while pending, waitlisted or accepted and the legal basis "
        "holds; `suspended` when the consent it rests on is no longer in force; `ended` "
        "after. While not active the receiver sees the status and codes only."
    )
    revealed: bool = Field(description="Identity values in `shared` are in clear.")
    shared: dict[str, Any] | None = Field(
        description="{dotted field name: value} of exactly the shared fields while access "
        "is active, identity values masked unless revealed with a purpose; null otherwise "
        "and in the answers to actions."
    )


class ReferralPage(Page[ReferralSummary]):
    overdue_count: int = Field(
        description="Referrals in this direction still open past their due date."
    )


class ParticipantPublic(BaseModel):
    """An agency on a case: the lead, a former lead, or a participant through a
    referral it accepted (role = the referral's purpose)."""

    agency_id: uuid.UUID
    agency_kind: str
    role: str = Field(description="`lead`, `former_lead`, or the participant's role.")
    referral_id: uuid.UUID | None
    since: datetime | None
    until: datetime | None
    active: bool


class DisclosurePublic(BaseModel):
    """One disclosure of a case's data to another agency (an accounting of
    disclosures the person can be given)."""

    referral_id: uuid.UUID
    to_agency_id: uuid.UUID
    purpose: ReferralPurpose
    legal_basis: LegalBasis
    shared_fields: list[SharedField]
    disclosed_at: datetime
    disclosed_by: uuid.UUID
    status: ReferralStatus
