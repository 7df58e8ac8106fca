"""Referrals (chuyển giao) between agencies: one agency hands part of a case, or the
whole case, to another for support, investigation, protection or repatriation.

A referral names the fields of the case it discloses (data minimisation per referral,
not per role) and the legal basis of the disclosure: the person's consent, an
investigation, or an emergency. Free text typed by a person (the note, the emergency
reason, a refusal or cancellation reason, the outcome) is ciphertext under the case
victim's data key (`app.services.cases.case_text`, context referrals/<column>/<id>),
so an erasure of the victim shreds it too. Every other column is a code, a date or an
id. Actors are stored as id + type without a users FK: integration clients act too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, Index, LargeBinary, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.domain.entitlements import SupportType
from app.models.base import created_at_column, empty_list, timestamp_column, uuid_pk


class ReferralPurpose(StrEnum):
    """What the receiver is asked to do; once it accepts, its role on the case
    (`app.services.cases.grants`), except `transfer`, which moves the lead."""

    VERIFICATION = "verification"
    IDENTIFICATION = "identification"
    INVESTIGATION = "investigation"
    SUPPORT = "support"
    PROTECTION = "protection"
    REPATRIATION = "repatriation"
    NOTIFICATION = "notification"
    TRANSFER = "transfer"


class ReferralStatus(StrEnum):
    PENDING = "pending"
    # The receiver will take it, not yet: `expected_at` says when.
    WAITLISTED = "waitlisted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RejectionReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    OUT_OF_JURISDICTION = "out_of_jurisdiction"
    NOT_COMPETENT = "not_competent"
    DUPLICATE = "duplicate"
    OTHER = "other"


class CompletionOutcome(StrEnum):
    DELIVERED = "delivered"
    PARTLY_DELIVERED = "partly_delivered"
    NOT_DELIVERED = "not_delivered"


class LegalBasis(StrEnum):
    CONSENT = "consent"
    INVESTIGATION = "investigation"
    EMERGENCY = "emergency"
    # A notification the law requires (a child's case to child protection, a commune's
    # reception to social affairs): made by the service itself at intake.
    LEGAL_OBLIGATION = "legal_obligation"


class SharedField(StrEnum):
    """The fields a referral may disclose; anything else is refused (422)."""

    VICTIM_FULL_NAME = "victim.full_name"
    VICTIM_OTHER_NAMES = "victim.other_names"
    VICTIM_DATE_OF_BIRTH = "victim.date_of_birth"
    VICTIM_SEX = "victim.sex"
    VICTIM_NATIONALITY = "victim.nationality"
    VICTIM_ETHNICITY = "victim.ethnicity"
    VICTIM_NATIONAL_ID = "victim.national_id"
    VICTIM_PHONE = "victim.phone"
    VICTIM_ADDRESS = "victim.address"
    VICTIM_HOMETOWN_PROVINCE_CODE = "victim.hometown_province_code"
    CASE_NUMBER = "case.case_number"
    CASE_STATUS = "case.status"
    CASE_INTAKE_SOURCE = "case.intake_source"
    CASE_RECEIVED_AT = "case.received_at"
    CASE_RECEIVED_LOCATION = "case.received_location"
    CASE_EXPLOITATION_TYPES = "case.exploitation_types"
    CASE_DESTINATION_COUNTRY = "case.destination_country"
    CASE_IS_CHILD = "case.is_child"
    CASE_IS_MINOR = "case.is_minor"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Referral(SQLModel, table=True):
    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(f"purpose IN ({_values(ReferralPurpose)})", name="purpose"),
        CheckConstraint(f"status IN ({_values(ReferralStatus)})", name="status"),
        CheckConstraint(f"legal_basis IN ({_values(LegalBasis)})", name="legal_basis"),
        CheckConstraint(f"reason_code IN ({_values(RejectionReason)})", name="reason_code"),
        CheckConstraint(f"outcome_code IN ({_values(CompletionOutcome)})", name="outcome_code"),
        CheckConstraint(
            "(legal_basis = 'consent') = (consent_id IS NOT NULL)", name="consent_basis"
        ),
        CheckConstraint("from_agency_id <> to_agency_id", name="distinct_agencies"),
        CheckConstraint(
            f"services <@ ARRAY[{_values(SupportType)}]::varchar[]", name="services_known"
        ),
        # Inbox and outbox, newest first, per status.
        Index("ix_referrals_to_agency", "to_agency_id", "created_at"),
        Index("ix_referrals_from_agency", "from_agency_id", "created_at"),
        # The expiry sweep and the overdue counts.
        Index("ix_referrals_status_due", "status", "due_at"),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
    from_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    to_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    purpose: str = Field(max_length=16)
    services: list[str] = Field(
        default_factory=empty_list, sa_column=Column(ARRAY(String(32)), nullable=False)
    )
    shared_fields: list[str] = Field(
        default_factory=empty_list, sa_column=Column(ARRAY(String(48)), nullable=False)
    )
    legal_basis: str = Field(max_length=16)
    consent_id: uuid.UUID | None = Field(default=None, foreign_key="case_consents.id")
    status: str = Field(default=ReferralStatus.PENDING.value, max_length=16)
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # Ciphertext under the victim's data key (see the module docstring).
    note: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    emergency_reason: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    # Why it was rejected, waitlisted or cancelled, or the receiver's word on accepting.
    reason: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    reason_code: str | None = Field(default=None, max_length=24)
    # The receiver's note on completing (ciphertext; context column "outcome").
    outcome: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    outcome_code: str | None = Field(default=None, max_length=24)
    # When a waitlisted referral is expected to be taken.
    expected_at: datetime | None = timestamp_column()
    # When the legal basis stops holding: the consent's expiry, or its withdrawal (the
    # consents service sets it in the withdrawing transaction); NULL while it holds
    # with no end. The case access rule reads this column, not the consent, so a
    # participant's grant is one lookup in this table.
    basis_ends_at: datetime | None = timestamp_column()
    services_delivered: list[str] | None = Field(
        default=None, sa_column=Column(ARRAY(String(32)), nullable=True)
    )
    created_by: uuid.UUID
    created_by_type: str = Field(default="user", max_length=16)
    decided_by: uuid.UUID | None = Field(default=None)
    decided_by_type: str | None = Field(default=None, max_length=16)
    closed_by: uuid.UUID | None = Field(default=None)
    closed_by_type: str | None = Field(default=None, max_length=16)
    created_at: datetime = created_at_column()
    decided_at: datetime | None = timestamp_column()
    completed_at: datetime | None = timestamp_column()
    cancelled_at: datetime | None = timestamp_column()
    expired_at: datetime | None = timestamp_column()
