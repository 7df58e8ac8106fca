"""API shapes of webhook endpoints (the table models live in app.models.webhook)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.models.webhook import WebhookEventType
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
