"""API shapes of integration clients. The secret appears in one response only: the
one that registers the client (`IntegrationClientCreated`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.schemas.common import StrictInput


class ClientScope(StrEnum):
    """The scopes an agency admin may grant (`CLIENT_SCOPES`; a test keeps the two
    equal). An enum, so a wrong one is a 422 and the OpenAPI document lists them."""

    AGENCIES_READ = "agencies:read"
    CASES_READ = "cases:read"
    REFERRALS_READ = "referrals:read"
    REFERRALS_WRITE = "referrals:write"
    METRICS_READ = "metrics:read"


class IntegrationClientCreate(StrictInput):
    name: str = Field(min_length=1, max_length=200, description="A label for the admin.")
    scopes: list[ClientScope] = Field(min_length=1, max_length=len(ClientScope))


class IntegrationClientPublic(BaseModel):
    client_id: uuid.UUID = Field(description="The OAuth 2 client_id.")
    name: str
    agency_id: uuid.UUID
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class IntegrationClientCreated(IntegrationClientPublic):
    client_secret: str = Field(
        description="Shown this once; only its hash is stored. Keep it like a password."
    )
