"""Hotline 111 reports (báo tin qua Tổng đài 111): what a caller reported, before any
case exists.

A report is not yet a case (DOMAIN.md): it is triaged into a case, forwarded to an
agency, or closed with a reason. Its people are rows of `persons` with their own data
keys: the caller (kind `hotline_caller`) and each suspected victim (kind
`reported_person`). Free text is sealed under the data key of the person it belongs
to, so an erasure shreds exactly that person's part:
- the caller's relation, the summary and the closing reason are the caller's account
  of events, under the caller's key;
- a suspected victim's location is under that victim's key.
What stays after an erasure is the skeleton the reports count: dates, channel,
province, urgency, status, sex and approximate age.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    text,
)
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, timestamp_column, utcnow, uuid_pk


class HotlineChannel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    APP = "app"
    WALK_IN = "walk_in"


class HotlineUrgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    IMMEDIATE_DANGER = "immediate_danger"


class HotlineStatus(StrEnum):
    OPEN = "open"
    CASE_OPENED = "case_opened"
    FORWARDED = "forwarded"
    CLOSED = "closed"


def _one_of(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{m.value}'" for m in enum)


class HotlineReport(SQLModel, table=True):
    __tablename__ = "hotline_reports"
    __table_args__ = (
        CheckConstraint(f"channel IN ({_one_of(HotlineChannel)})", name="channel"),
        CheckConstraint(f"urgency IN ({_one_of(HotlineUrgency)})", name="urgency"),
        CheckConstraint(f"status IN ({_one_of(HotlineStatus)})", name="status"),
        Index("ix_hotline_reports_owner_created", "owner_agency_id", "created_at"),
        # The overdue list: reports with a deadline still waiting for an answer. Only
        # the owner's are ever unanswered (a forward is an answer).
        Index(
            "ix_hotline_reports_awaiting_response",
            "owner_agency_id",
            "respond_by",
            postgresql_where=text("respond_by IS NOT NULL AND responded_at IS NULL"),
        ),
    )

    id: uuid.UUID = uuid_pk()
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    channel: str = Field(max_length=16)
    province_code: str = Field(foreign_key="provinces.code", max_length=2)
    urgency: str = Field(max_length=20)
    status: str = Field(default=HotlineStatus.OPEN.value, max_length=16)
    # The hotline centre that recorded the report: its operators read and triage it.
    owner_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    created_by: uuid.UUID = Field(foreign_key="users.id")
    caller_person_id: uuid.UUID = Field(foreign_key="persons.id", index=True)
    # Ciphertext under the caller's data key (context hotline_reports/<column>/<id>).
    caller_relation: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    summary: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    close_reason: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    forwarded_to_agency_id: uuid.UUID | None = Field(
        default=None, foreign_key="agencies.id", index=True
    )
    case_id: uuid.UUID | None = Field(default=None, foreign_key="cases.id")
    triaged_at: datetime | None = timestamp_column()
    triaged_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    # A report in immediate danger must be answered by then (`app.services.hotline_queue`);
    # None for the other urgencies.
    respond_by: datetime | None = timestamp_column()
    # The first answer: triaged into a case, forwarded or closed (a forward target's
    # later triage does not move it).
    responded_at: datetime | None = timestamp_column()
    version: int = Field(default=1)
    created_at: datetime = created_at_column()
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class HotlineSuspectedVictim(SQLModel, table=True):
    """A person named in a report as possibly trafficked, in the order given."""

    __tablename__ = "hotline_suspected_victims"
    __table_args__ = (
        PrimaryKeyConstraint("report_id", "position", name="pk_hotline_suspected_victims"),
        CheckConstraint(
            "approximate_age IS NULL OR approximate_age BETWEEN 0 AND 120",
            name="approximate_age",
        ),
    )

    report_id: uuid.UUID = Field(foreign_key="hotline_reports.id", ondelete="CASCADE")
    position: int = Field(sa_column=Column(SmallInteger, nullable=False))
    person_id: uuid.UUID = Field(foreign_key="persons.id", index=True)
    approximate_age: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    # Ciphertext under this person's data key (context hotline_suspected_victims/
    # location/<report id>/<person id>).
    location: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
