"""API shapes of agencies (the table model lives in app.models.agency)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.schemas.codes import CommuneCode, ProvinceCode, commune_of
from app.schemas.common import StrictInput


class AgencyCreate(StrictInput):
    code: str = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=2, max_length=255)
    kind: str = Field(min_length=2, max_length=40, description="An agency kind code.")
    province_code: ProvinceCode | None = Field(
        default=None, description="Required except for national agencies."
    )
    commune_code: CommuneCode | None = None
    post_province_codes: list[ProvinceCode] | None = Field(
        default=None,
        max_length=34,
        description="A border guard's posts: the provinces where it also receives "
        "persons (its own province is always one). Only for kind border_guard.",
    )

    @field_validator("commune_code")
    @classmethod
    def _in_the_province(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A province_code that failed its own check is not in `info.data`.
        if value is not None and "province_code" in info.data and not info.data["province_code"]:
            raise ValueError("needs the agency's province_code")
        return commune_of(value, info.data.get("province_code"))


class AgencyPublic(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    province_code: str | None
    commune_code: str | None
    post_province_codes: list[str] | None
    is_active: bool
    created_at: datetime
