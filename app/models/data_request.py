"""The register of data subjects' requests (`app.services.data_requests`) and the
calendar of public holidays their deadlines count working days on.

The note, the outcome and the reason are typed by people and may name the person,
so they are ciphertext under the person's own data key: an erasure of the person
shreds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, DateTime, Index, LargeBinary, text
from sqlmodel import Field, SQLModel

from app.domain.data_requests import Channel, Requester, RequestKind, RequestStatus
from app.models.base import created_at_column, timestamp_column, uuid_pk


def _in(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


class PublicHoliday(SQLModel, table=True):
    __tablename__ = "public_holidays"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    name: str = Field(max_length=80)
    # False while the year's official notice is awaited (dates computed in advance).
    confirmed: bool = Field(default=True)


class DataRequest(SQLModel, table=True):
    __tablename__ = "data_requests"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(RequestKind)})", name="kind"),
        CheckConstraint(f"requester IN ({_in(Requester)})", name="requester"),
        CheckConstraint(f"channel IN ({_in(Channel)})", name="channel"),
        CheckConstraint(f"status IN ({_in(RequestStatus)})", name="status"),
        CheckConstraint("(status = 'open') = (closed_at IS NULL)", name="closed"),
        Index("ix_data_requests_case", "case_id"),
        Index("ix_data_requests_person", "person_id"),
        # The overdue sweep: open requests past their deadline not yet announced.
        Index(
            "ix_data_requests_open_due",
            "complete_by",
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    person_id: uuid.UUID = Field(foreign_key="persons.id")
    kind: str = Field(max_length=24)
    channel: str = Field(max_length=16)
    requester: str = Field(max_length=24)
    identity_checked: bool
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # Vietnam dates, inclusive (`app.domain.working_days`).
    acknowledge_by: date = Field(sa_column=Column(Date, nullable=False))
    complete_by: date = Field(sa_column=Column(Date, nullable=False))
    note: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    status: str = Field(default=RequestStatus.OPEN.value, max_length=16)
    recorded_by: uuid.UUID = Field(foreign_key="users.id")
    created_at: datetime = created_at_column()
    closed_at: datetime | None = timestamp_column()
    closed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    outcome: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    reason: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # When `data_request.overdue` was announced (once per request).
    overdue_notified_at: datetime | None = timestamp_column()
