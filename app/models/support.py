"""Support regimes: the money rates in force, and the supports given to a case's persons.

A support rate (định mức hỗ trợ) is set by a province's people's council, or
nationally (the social-assistance standard), for a support type and unit, with the
dates it is in force and its legal basis. No two rates of one (province, type, unit)
are in force on the same day: an exclusion constraint enforces it (see the
migration); `province_code` NULL is the national row.

A support service is one support requested for, approved and delivered to a person
of a case; its amount is fixed from the rate in force on the day of service when it
is requested, or from a receipt (actual cost, `app.domain.support_money`). Reasons
and the receipt's number and issuer, typed by a person, are encrypted under the
victim's data key: an issuer may be a private interpreter or lawyer, and a number
leads to the issuer's own record of the person (a hospital's patient file). The
receipt's date and amount stay plain, for the returns.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    LargeBinary,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from app.domain.entitlements import SupportType
from app.domain.support_money import one_off_predicate
from app.models.base import created_at_column, timestamp_column, uuid_pk


class SupportUnit(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    PERSON = "person"
    COURSE = "course"
    TRIP = "trip"
    SESSION = "session"
    LUMP_SUM = "lump_sum"


class SupportStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class SupportRate(SQLModel, table=True):
    __tablename__ = "support_rates"
    __table_args__ = (
        CheckConstraint(f"type IN ({_values(SupportType)})", name="type"),
        CheckConstraint(f"unit IN ({_values(SupportUnit)})", name="unit"),
        CheckConstraint("amount_vnd > 0", name="amount_positive"),
        CheckConstraint("max_units IS NULL OR max_units > 0", name="max_units_positive"),
        CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name="effective_range"
        ),
        Index("ix_support_rates_lookup", "type", "province_code", "effective_from"),
    )

    id: uuid.UUID = uuid_pk()
    # NULL: the national rate, used where the province has none.
    province_code: str | None = Field(default=None, foreign_key="provinces.code", max_length=2)
    type: str = Field(max_length=32)
    unit: str = Field(max_length=16)
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    max_units: int | None = Field(default=None)
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    # Inclusive last day; NULL while in force until further notice.
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # A citation (decision or resolution number), written by an administrator.
    legal_basis: str = Field(max_length=300)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = created_at_column()


class SupportService(SQLModel, table=True):
    __tablename__ = "support_services"
    __table_args__ = (
        CheckConstraint(f"type IN ({_values(SupportType)})", name="type"),
        CheckConstraint(f"unit IN ({_values(SupportUnit)})", name="unit"),
        CheckConstraint(f"status IN ({_values(SupportStatus)})", name="status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_vnd >= 0", name="amount_not_negative"),
        CheckConstraint(
            "NOT actual_cost OR (receipt_date IS NOT NULL AND receipt_number IS NOT NULL "
            "AND receipt_issuer IS NOT NULL)",
            name="receipt",
        ),
        Index("ix_support_services_case_person", "case_id", "person_id", "type"),
        # A one-off support once per person (app.domain.support_money.ONE_OFF).
        Index(
            "ux_support_services_one_off",
            "person_id",
            "type",
            unique=True,
            postgresql_where=text(one_off_predicate()),
        ),
    )

    id: uuid.UUID = uuid_pk()
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    person_id: uuid.UUID = Field(foreign_key="persons.id", index=True)
    type: str = Field(max_length=32)
    unit: str = Field(max_length=16)
    quantity: int
    service_date: date = Field(sa_column=Column(Date, nullable=False))
    provider_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agencies.id")
    # The referral under which a participating agency records and delivers the service
    # (the referral naming the service is the lead's approval of it).
    referral_id: uuid.UUID | None = Field(default=None, foreign_key="referrals.id", index=True)
    # The province where the service is delivered: its rates price it and its returns
    # count it (NULL on rows from before 2026-12: the case's reception province).
    province_code: str | None = Field(default=None, foreign_key="provinces.code", max_length=2)
    # The rate the amount was computed from; NULL when a supervisor set the amount.
    rate_id: uuid.UUID | None = Field(default=None, foreign_key="support_rates.id")
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_overridden: bool = Field(default=False)
    # Paid at actual cost: the amount is the receipt's, approved by a supervisor.
    actual_cost: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    receipt_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # Set when the 120-day essential-needs cap was extended by a supervisor.
    cap_extended: bool = Field(default=False)
    status: str = Field(default=SupportStatus.REQUESTED.value, max_length=16)
    # Reasons typed by a person: ciphertext under the victim's data key, context
    # support_services/<column>/<id>/<victim id>.
    override_reason: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    extension_reason: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    decision_reason: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    receipt_number: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    receipt_issuer: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    requested_by: uuid.UUID = Field(foreign_key="users.id")
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = timestamp_column()
    delivered_at: datetime | None = timestamp_column()
    cancelled_at: datetime | None = timestamp_column()
    version: int = Field(default=1)
    created_at: datetime = created_at_column()
