"""API shapes of persons. Identity fields reach responses only through the cases API's
own schemas; the erasure order carries no personal data."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from app.models.person import ErasureReason
from app.schemas.common import StrictInput

# Nine or more digits in a row (spaces, dots and dashes between them allowed) look
# like an identity number or a phone number, never like a legal citation.
_IDENTITY_NUMBER = re.compile(r"\d(?:[\s.\-]?\d){8,}")


class PersonErasureCreate(StrictInput):
    """An erasure order of a system administrator (crypto-shredding)."""

    legal_basis: str = Field(
        min_length=10,
        max_length=500,
        description=(
            "Citation of the legal ground and decision, e.g. 'Điều 16 Luật Bảo vệ dữ liệu "
            "cá nhân 91/2025/QH15; Quyết định số 12/QĐ-SYT'. Not personal data."
        ),
    )
    reason_code: ErasureReason | None = None

    @field_validator("legal_basis")
    @classmethod
    def _no_identity_numbers(cls, value: str) -> str:
        if _IDENTITY_NUMBER.search(value):
            raise ValueError("must cite the legal basis, without identity or phone numbers")
        return value


class PersonErasurePublic(BaseModel):
    person_id: uuid.UUID
    erased_at: datetime
    reason_code: ErasureReason | None
