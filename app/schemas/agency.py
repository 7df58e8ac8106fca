"""API shapes of agencies (the table model lives in app.models.agency)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.schemas.common import StrictInput


class AgencyCreate(StrictInput):
    code: str = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=2, max_length=255)
    kind: str = Field(min_length=2, max_length=40, description="An agency kind code.")
    province_code: str | None = Field(
        default=None, pattern=r"^[0-9]{2}$", description="Required except for national agencies."
    )
    commune_code: str | None = Field(default=None, pattern=r"^[0-9]{5}$")


class AgencyPublic(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    province_code: str | None
    commune_code: str | None
    is_active: bool
    created_at: datetime
