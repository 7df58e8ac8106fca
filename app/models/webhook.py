"""Webhooks: an agency's endpoints and the transactional outbox that feeds them.

- `webhook_endpoints`: where an agency wants events sent. The signing secret is
  stored only wrapped by the key ring's KEK (bound to the endpoint's id), never in
  plain text. A deleted endpoint is deactivated, not removed, so the history of its
  deliveries stays.
- `webhook_events`: the outbox. One row per event and receiving agency, inserted in
  the same transaction as the change it announces, so an event whose transaction
  rolled back never exists and is never sent. The payload holds ids and codes only.
- `webhook_deliveries`: one per event and endpoint, the delivery worker's queue; a
  redelivery asked by the agency is a further row for the same event and endpoint
  (`redelivery_of_id` names the delivery it repeats).
- `webhook_attempts`: one row per try (time, HTTP status or error code, duration).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, timestamp_column, uuid_pk


class WebhookEventType(StrEnum):
    REFERRAL_CREATED = "referral.created"
    REFERRAL_ACCEPTED = "referral.accepted"
    REFERRAL_WAITLISTED = "referral.waitlisted"
    REFERRAL_REJECTED = "referral.rejected"
    REFERRAL_COMPLETED = "referral.completed"
    CASE_TRANSFERRED = "case.transferred"
    PARTICIPANT_ADDED = "participant.added"
    PARTICIPANT_REMOVED = "participant.removed"
    HOTLINE_REPORT_CREATED = "hotline_report.created"
    # Many failed sign-ins for one account in the window (app.services.login_throttle).
    USER_LOGIN_BURST = "user.login_burst"
    INTEGRATION_CLIENT_LOGIN_BURST = "integration_client.login_burst"
    # An emergency read of a case outside the reader's access, told to the lead.
    CASE_BREAK_GLASS = "case.break_glass"
    # A personal-data incident not notified to the authority by its deadline.
    INCIDENT_OVERDUE = "incident.overdue"
    # A data subject's request past its completion deadline, told to the lead once.
    DATA_REQUEST_OVERDUE = "data_request.overdue"
    # A case opened (intake or a hotline triage), told to its lead agency.
    CASE_CREATED = "case.created"
    # The state machine moved a case (from/to status), told to its lead agency.
    CASE_STATUS_CHANGED = "case.status_changed"
    # A case's legal deadline passed without the next step, told to the lead once per
    # deadline.
    CASE_OVERDUE = "case.overdue"
    # A hotline report forwarded, told to the receiving agency and the hotline centre.
    HOTLINE_REPORT_FORWARDED = "hotline_report.forwarded"
    # A test event (`POST /webhooks/{id}/ping`): sent to that one endpoint, never
    # subscribed to.
    WEBHOOK_PING = "webhook.ping"


# Events an endpoint receives without subscribing (and may not list in `events`).
UNSUBSCRIBED_EVENTS = frozenset({WebhookEventType.WEBHOOK_PING})


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def _one_of(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{m.value}'" for m in enum)


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_agency_created", "agency_id", "created_at"),)

    id: uuid.UUID = uuid_pk()
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    url: str = Field(max_length=2048)
    events: list[str] = Field(sa_column=Column(ARRAY(String(40)), nullable=False))
    # An operator's label for the receiving system (never about a person; the API
    # says so), kept short.
    description: str | None = Field(default=None, max_length=200)
    # The signing secret wrapped by the KEK `secret_kek_version`; see
    # `app.services.webhooks.endpoints.open_secret`.
    secret_kek_version: int
    secret_wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    is_active: bool = Field(default=True)
    # Users or integration clients may register endpoints, so no users FK.
    created_by_id: uuid.UUID
    created_by_type: str = Field(max_length=16)
    created_at: datetime = created_at_column()
    deactivated_at: datetime | None = timestamp_column()

    def __repr__(self) -> str:
        return f"WebhookEndpoint(id={self.id}, agency_id={self.agency_id}, secret=<redacted>)"


class WebhookEvent(SQLModel, table=True):
    __tablename__ = "webhook_events"
    __table_args__ = (CheckConstraint(f"event_type IN ({_one_of(WebhookEventType)})", name="type"),)

    id: uuid.UUID = uuid_pk()
    event_type: str = Field(max_length=40)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id", index=True)
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_column()


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN ({_one_of(DeliveryStatus)})", name="status"),
        # An endpoint's delivery log, newest first.
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
        # The worker's claim query: due pending deliveries, oldest first.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: uuid.UUID = uuid_pk()
    event_id: uuid.UUID = Field(foreign_key="webhook_events.id", index=True)
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoints.id")
    redelivery_of_id: uuid.UUID | None = Field(default=None, foreign_key="webhook_deliveries.id")
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16)
    attempt_count: int = Field(default=0, sa_type=SmallInteger)
    next_attempt_at: datetime | None = timestamp_column()
    last_status_code: int | None = Field(default=None, sa_type=SmallInteger)
    last_error: str | None = Field(default=None, max_length=40)
    delivered_at: datetime | None = timestamp_column()
    created_at: datetime = created_at_column()


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"

    id: uuid.UUID = uuid_pk()
    delivery_id: uuid.UUID = Field(foreign_key="webhook_deliveries.id", index=True)
    attempted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # The receiver's HTTP status, or None with `error` naming why nothing was answered
    # (`unsafe_address`, `timeout`, `connect_error`, ...).
    status_code: int | None = Field(default=None, sa_type=SmallInteger)
    error: str | None = Field(default=None, max_length=40)
    duration_ms: int
