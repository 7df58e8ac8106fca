"""Records kept on a case (hồ sơ vụ việc): evidence, the identification decision,
protection measures and the person's consents.

Free text typed by a person (an evidence description, a legal basis, a refusal
reason) and the victim certificate number are ciphertext under the case victim's data
key (`app.services.cases.case_text`), so an erasure of the victim shreds them too.
Every other column is a code, a date or an id.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, DateTime, Index, LargeBinary, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, empty_list, timestamp_column, utcnow, uuid_pk


class EvidenceSource(StrEnum):
    """The law's nine sources of evidence for identifying a victim (DOMAIN.md)."""

    INVESTIGATING_BODIES_RECORDS = "investigating_bodies_records"
    RESCUING_AGENCY = "rescuing_agency"
    VIETNAMESE_MISSION_ABROAD = "vietnamese_mission_abroad"
    OTHER_DOMESTIC_AGENCY = "other_domestic_agency"
    FOREIGN_AUTHORITY = "foreign_authority"
    STATEMENT_OF_PERSON_OR_RELATIVES = "statement_of_person_or_relatives"
    STATEMENT_OF_TRAFFICKER = "statement_of_trafficker"
    OTHER_VICTIMS_OR_WITNESSES = "other_victims_or_witnesses"
    OTHER_LAWFUL_EVIDENCE = "other_lawful_evidence"


class IdentificationOutcome(StrEnum):
    VICTIM = "victim"
    NOT_VICTIM = "not_victim"


class ProtectionMeasureKind(StrEnum):
    SAFE_SHELTER = "safe_shelter"
    IDENTITY_CONFIDENTIALITY = "identity_confidentiality"
    RESIDENCE_PROTECTION = "residence_protection"
    WORKPLACE_PROTECTION = "workplace_protection"
    SCHOOL_PROTECTION = "school_protection"
    GUARD = "guard"
    POLICE_ASSISTANCE = "police_assistance"
    ARMY_ASSISTANCE = "army_assistance"
    OTHER = "other"


class ProtectedPerson(StrEnum):
    """Whom a measure protects: the law protects the victim (or the person under
    verification), an under-18 travelling with them, their relatives and people who
    help; witnesses too. The values are the roles of `case_persons`."""

    VICTIM = "victim"
    MINOR = "minor"
    RELATIVE = "relative"
    HELPER = "helper"
    WITNESS = "witness"


class ProtectionStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    ENDED = "ended"
    REFUSED = "refused"


class ConsentScope(StrEnum):
    DATA_SHARING = "data_sharing"
    SERVICES = "services"
    REPORTING = "reporting"


class ConsentGiver(StrEnum):
    SELF = "self"
    LEGAL_REPRESENTATIVE = "legal_representative"
    BOTH = "both"


class ConsentStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class CaseEvidence(SQLModel, table=True):
    """One piece of evidence (chứng cứ) gathered while verifying a case."""

    __tablename__ = "case_evidence"
    __table_args__ = (
        CheckConstraint(_in("source", EvidenceSource), name="source"),
        Index("ix_case_evidence_case_created", "case_id", "created_at"),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    source: str = Field(max_length=40)
    description: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    obtained_at: datetime | None = timestamp_column()
    # A file or register reference ("hồ sơ số ..."), not free text about people.
    document_ref: str | None = Field(default=None, max_length=200)
    recorded_by: uuid.UUID = Field(foreign_key="users.id")
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    created_at: datetime = created_at_column()


class IdentificationDecision(SQLModel, table=True):
    """A decision identifying a person as a victim or not (xác định nạn nhân), by a
    competent agency, with the evidence it rests on; a victim certificate (giấy tờ xác
    nhận nạn nhân) may be issued with a positive decision."""

    __tablename__ = "identification_decisions"
    __table_args__ = (
        CheckConstraint(_in("decision", IdentificationOutcome), name="decision"),
        CheckConstraint(
            "certificate_number IS NULL OR decision = 'victim'", name="certificate_only_victim"
        ),
        Index("ix_identification_decisions_case_created", "case_id", "created_at"),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    decision: str = Field(max_length=16)
    decided_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    legal_basis: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    evidence_ids: list[uuid.UUID] = Field(
        default_factory=empty_list, sa_column=Column(ARRAY(Uuid), nullable=False)
    )
    certificate_number: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    decided_by: uuid.UUID = Field(foreign_key="users.id")
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    created_at: datetime = created_at_column()


class ProtectionMeasure(SQLModel, table=True):
    """A protection measure (biện pháp bảo vệ) for a person of the case (`ProtectedPerson`);
    the person may refuse it in writing (status `refused`, with a reason)."""

    __tablename__ = "protection_measures"
    __table_args__ = (
        CheckConstraint(_in("measure", ProtectionMeasureKind), name="measure"),
        CheckConstraint(_in("protected_person", ProtectedPerson), name="protected_person"),
        CheckConstraint(_in("status", ProtectionStatus), name="status"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        CheckConstraint(
            "status <> 'refused' OR refusal_reason IS NOT NULL", name="refusal_has_reason"
        ),
        Index("ix_protection_measures_case_created", "case_id", "created_at"),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    measure: str = Field(max_length=40)
    protected_person: str = Field(max_length=16)
    protected_person_id: uuid.UUID | None = Field(default=None, foreign_key="persons.id")
    start_date: date = Field(sa_column=Column(Date, nullable=False))
    end_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    status: str = Field(max_length=16)
    refusal_reason: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    responsible_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    version: int = Field(default=1)
    created_by: uuid.UUID = Field(foreign_key="users.id")
    created_at: datetime = created_at_column()
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class CaseConsent(SQLModel, table=True):
    """Proof of consent (Law 91/2025) of the person or their legal representative, per
    scope; a withdrawal takes effect at once and is kept on record."""

    __tablename__ = "case_consents"
    __table_args__ = (
        CheckConstraint(_in("scope", ConsentScope), name="scope"),
        CheckConstraint(_in("given_by", ConsentGiver), name="given_by"),
        CheckConstraint(_in("status", ConsentStatus), name="status"),
        CheckConstraint("expires_at IS NULL OR expires_at > given_at", name="expiry"),
        Index("ix_case_consents_case_scope", "case_id", "scope"),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    scope: str = Field(max_length=20)
    given_by: str = Field(max_length=24)
    given_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime | None = timestamp_column()
    status: str = Field(default=ConsentStatus.ACTIVE.value, max_length=16)
    withdrawn_at: datetime | None = timestamp_column()
    withdrawn_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    recorded_by: uuid.UUID = Field(foreign_key="users.id")
    created_at: datetime = created_at_column()
