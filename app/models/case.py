"""Cases (hồ sơ vụ việc): one trafficked person's path through the agencies.

A case holds no identity value itself: its persons (the victim, accompanying minors,
relatives, people who help, witnesses) are rows of `persons` with their own data
keys, linked by `case_persons`. Everything here is the non-identifying skeleton that
stays after an erasure and feeds the reports: dates, status, places by code,
exploitation types, flags.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.domain.age import AgeBasis
from app.domain.first_days import FirstNeed, RiskLevel
from app.domain.workflow import CaseStatus, ClosureCode
from app.models.base import created_at_column, empty_list, timestamp_column, utcnow, uuid_pk


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


_STATUSES = _values(CaseStatus)
_CLOSURE_CODES = _values(ClosureCode)
_AGE_BASES = _values(AgeBasis)
_RISK_LEVELS = _values(RiskLevel)
_FIRST_NEEDS = _values(FirstNeed)


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        CheckConstraint(
            f"closure_code IS NULL OR (closure_code IN ({_CLOSURE_CODES}) AND status = 'closed')",
            name="closure_code",
        ),
        UniqueConstraint("province_code", "year", "serial", name="uq_cases_number_parts"),
        Index("ix_cases_owner_received", "owner_agency_id", "received_at"),
        Index("ix_cases_status_due", "status", "next_due_at"),
        CheckConstraint("victim_sex IN ('female', 'male', 'other', 'unknown')", name="victim_sex"),
        CheckConstraint(
            "victim_ethnicity_group IN ('kinh', 'minority', 'foreign', 'unknown')",
            name="victim_ethnicity_group",
        ),
        CheckConstraint(f"age_basis IN ({_AGE_BASES})", name="age_basis"),
        CheckConstraint("age_estimate BETWEEN 0 AND 120", name="age_estimate"),
        CheckConstraint(f"risk_level IN ({_RISK_LEVELS})", name="risk_level"),
        CheckConstraint(f"first_needs <@ ARRAY[{_FIRST_NEEDS}]::varchar[]", name="first_needs"),
        # The case list's order (newest first, then id), walked backwards until a
        # page of readable cases is found (bench/load.py, "case list page").
        Index("ix_cases_created_id", "created_at", "id"),
        # Reports group by province and reception date (bench/reports_bench.py).
        Index("ix_cases_province_received", "province_code", "received_at"),
    )

    id: uuid.UUID = uuid_pk()
    # `<province>-<year>-<serial>`, e.g. 40-2026-000123; the parts are kept for order.
    case_number: str = Field(max_length=32, unique=True)
    # The reception province (it numbers the case and keeps the reception in its returns).
    province_code: str = Field(foreign_key="provinces.code", max_length=2)
    # Where the case is handled now, when a transfer moved it to another province;
    # NULL while it is still the reception province.
    current_province_code: str | None = Field(
        default=None, foreign_key="provinces.code", max_length=2
    )
    year: int = Field(sa_column=Column(SmallInteger, nullable=False))
    serial: int
    status: str = Field(default=CaseStatus.RECEIVED.value, max_length=20)
    owner_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    assigned_to: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    intake_source: str = Field(max_length=32)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    received_commune_code: str | None = Field(default=None, max_length=10)
    exploitation_types: list[str] = Field(
        default_factory=empty_list, sa_column=Column(ARRAY(String(32)), nullable=False)
    )
    destination_country: str | None = Field(default=None, max_length=2)
    # One case per victim person: the person (its key, its erasure) is the case's own.
    victim_person_id: uuid.UUID = Field(foreign_key="persons.id", index=True, unique=True)
    # From the date of birth, else the estimate, else presumed a minor (app.domain.age:
    # under 16 is a child; under 18 a minor, for whom trafficking needs no proof of
    # force or deception). `age_basis` says which; `age_estimate` is whole years, as
    # coarse as the birth year every reader sees.
    is_child: bool = Field(default=False)
    is_minor: bool = Field(default=True)
    age_basis: str = Field(
        default=AgeBasis.PRESUMED_MINOR.value,
        max_length=16,
        sa_column_kwargs={"server_default": AgeBasis.PRESUMED_MINOR.value},
    )
    age_estimate: int | None = Field(default=None, sa_column=Column(SmallInteger))
    # What the person needed first (codes) and the risk they face, recorded at intake.
    first_needs: list[str] = Field(
        default_factory=empty_list,
        sa_column=Column(ARRAY(String(24)), nullable=False, server_default="{}"),
    )
    risk_level: str | None = Field(default=None, max_length=8)
    # A receiving body other than the commune brings the person to the commune at
    # once: which commune, and when.
    brought_to_commune_code: str | None = Field(default=None, max_length=10)
    brought_to_commune_at: datetime | None = timestamp_column()
    # Reporting columns (app/services/cases/stats.py): coarse values copied from the
    # victim's encrypted identity so reports never decrypt. Sex is `unknown` when not
    # known; the others are NULL when not recorded.
    victim_sex: str = Field(default="unknown", max_length=8)
    victim_age_at_intake: int | None = Field(default=None, sa_column=Column(SmallInteger))
    victim_nationality: str | None = Field(default=None, max_length=2)
    victim_ethnicity_group: str | None = Field(default=None, max_length=10)
    victim_hometown_province_code: str | None = Field(default=None, max_length=2)
    # The support types delivered to the case so far, kept by a database trigger on
    # support_services (migration 20261123_delivered_support_types), so reports count persons per
    # support type without joining the services.
    delivered_support_types: list[str] = Field(
        default_factory=empty_list,
        sa_column=Column(ARRAY(String(32)), nullable=False, server_default="{}"),
    )
    # Entitlements differ for a person still abroad (DOMAIN.md).
    currently_abroad: bool = Field(default=False)
    hotline_report_id: uuid.UUID | None = Field(default=None, index=True)
    # The next legal deadline of the current step; NULL when none applies. Until the
    # case has its verification record (`verified_at`), the initial-verification
    # deadline stays among them, whatever the status says (app/domain/workflow.py).
    next_due_at: datetime | None = timestamp_column()
    # The deadline `case.overdue` was last announced for (the webhook worker's sweep,
    # app/services/cases/overdue.py): announced once per deadline.
    overdue_announced_for: datetime | None = timestamp_column()
    # When the initial verification was completed: set by its record
    # (app/services/cases/verification.py), NULL until then.
    verified_at: datetime | None = timestamp_column()
    closed_at: datetime | None = timestamp_column()
    # Why the case closed, where the law names the ending (`ClosureCode`).
    closure_code: str | None = Field(default=None, max_length=32)
    version: int = Field(default=1)
    created_by: uuid.UUID = Field(foreign_key="users.id")
    created_at: datetime = created_at_column()
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


def _case_reference() -> Column[uuid.UUID]:
    """`case_id` of a row that intake writes before its case (`app.services.cases.
    intake`: the case comes last, right after its number): the foreign key is checked
    at commit, and a dangling id still fails the transaction."""
    return Column(
        Uuid,
        ForeignKey("cases.id", ondelete="CASCADE", deferrable=True, initially="DEFERRED"),
        nullable=False,
    )


# The roles a person has in a case: the victim, an accompanying minor (under 18,
# travelling with the victim), a relative, a person who helps, a witness. The law
# protects all of them; only the victim and an accompanying minor get supports.
CASE_PERSON_ROLES = ("victim", "minor", "relative", "helper", "witness")
# What a person's minor flag rests on: the date of birth, an estimate of the age, or
# the presumption that a person who may be under 18 is a minor until established.
AGE_BASES = ("date_of_birth", "estimate", "presumed_minor")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class CasePerson(SQLModel, table=True):
    """A person of a case and their role in it (`CASE_PERSON_ROLES`)."""

    __tablename__ = "case_persons"
    __table_args__ = (
        PrimaryKeyConstraint("case_id", "person_id", name="pk_case_persons"),
        CheckConstraint(f"role IN ({_listed(CASE_PERSON_ROLES)})", name="role"),
        CheckConstraint("age_estimate BETWEEN 0 AND 120", name="age_estimate"),
        CheckConstraint(f"age_basis IN ({_listed(AGE_BASES)})", name="age_basis"),
    )

    case_id: uuid.UUID = Field(sa_column=_case_reference())
    person_id: uuid.UUID = Field(foreign_key="persons.id", index=True)
    role: str = Field(max_length=16)
    # e.g. "daughter", "mother": a relation word, not an identity value.
    relation: str | None = Field(default=None, max_length=40)
    # A person added after intake (`app.services.cases.persons`): the age estimated in
    # whole years when the date of birth is unknown, and whether they were under 18
    # when added, with what that rests on; NULL when nothing says (an adult relative
    # of unknown age).
    age_estimate: int | None = Field(default=None, sa_column=Column(SmallInteger))
    is_minor: bool | None = Field(default=None)
    age_basis: str | None = Field(default=None, max_length=16)
    created_at: datetime = created_at_column()


class CaseNumberCounter(SQLModel, table=True):
    """The last serial handed out per province and year. Allocation increments the row
    under its lock inside the intake transaction, so numbers have no gaps (a rolled
    back intake rolls its increment back too) and no duplicates under concurrency."""

    __tablename__ = "case_number_counters"
    __table_args__ = (
        PrimaryKeyConstraint("province_code", "year", name="pk_case_number_counters"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2)
    year: int = Field(sa_column=Column(SmallInteger, nullable=False))
    last_serial: int = Field(default=0)


class CaseTimelineEntry(SQLModel, table=True):
    """One line of a case's timeline: a state change, referral, service, decision.

    `detail` is a code or a status name written by the program, never free text.
    """

    __tablename__ = "case_timeline"
    __table_args__ = (Index("ix_case_timeline_case_time", "case_id", "occurred_at"),)

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(sa_column=_case_reference())
    occurred_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    kind: str = Field(max_length=40)
    actor_id: uuid.UUID | None = Field(default=None)
    actor_agency_id: uuid.UUID | None = Field(default=None)
    ref_type: str | None = Field(default=None, max_length=40)
    ref_id: uuid.UUID | None = Field(default=None)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    detail: str | None = Field(default=None, max_length=200)
    # A reason or note typed by a person may name people: it is encrypted under the
    # case victim's data key (context case_timeline/note/<entry id>/<victim id>), so an
    # erasure of the victim shreds it too.
    note: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
