"""API shapes of webhook endpoints (the table models live in app.models.webhook)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from app.i18n import msg
from app.models.webhook import UNSUBSCRIBED_EVENTS, DeliveryStatus, WebhookEventType
from app.schemas.common import StrictInput


class WebhookEndpointCreate(StrictInput):
    url: str = Field(
        min_length=8,
        max_length=2048,
        description="https in production; loopback, private, link-local and metadata "
        "addresses are refused, at registration and again at each delivery.",
    )
    events: list[WebhookEventType] = Field(min_length=1, max_length=len(WebhookEventType))
    description: str | None = Field(
        default=None,
        max_length=200,
        description="A label for the receiving system; never personal data.",
    )

    @field_validator("events")
    @classmethod
    def _subscribable(cls, events: list[WebhookEventType]) -> list[WebhookEventType]:
        for event in events:
            if event in UNSUBSCRIBED_EVENTS:
                raise ValueError(msg("{event} is sent by the ping route only", event=event.value))
        return events


class WebhookEndpointPublic(BaseModel):
    id: uuid.UUID
    agency_id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    is_active: bool
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointPublic):
    secret: str = Field(
        description="The signing secret (`whsec_…`), shown this once: store it now."
    )


class WebhookAttemptPublic(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None = Field(
        description="Why nothing was answered (`timeout`, `connect_error`, "
        "`unsafe_address`, ...), else null."
    )
    duration_ms: int


class WebhookDeliveryPublic(BaseModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID = Field(description="The event's id, sent as the `webhook-id` header.")
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried.")
    delivered_at: datetime | None
    redelivery_of: uuid.UUID | None = Field(
        description="The delivery this one repeats, for a redelivery."
    )
    created_at: datetime
    attempts: list[WebhookAttemptPublic] = Field(description="Every try, oldest first.")
