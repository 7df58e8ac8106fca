"""Support rates and support services: request bodies and responses."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from app.domain.entitlements import SupportType
from app.i18n import FieldErrors, msg
from app.models.support import SupportStatus, SupportUnit
from app.schemas.common import StrictInput

ProvinceCode = Annotated[str, Field(pattern=r"^[0-9]{2}$")]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class SupportRateCreate(StrictInput):
    province_code: ProvinceCode | None = Field(
        default=None, description="Null for the national rate."
    )
    type: SupportType
    unit: SupportUnit
    amount_vnd: int = Field(gt=0, le=10_000_000_000)
    max_units: int | None = Field(default=None, gt=0, le=100_000)
    effective_from: date
    effective_to: date | None = Field(default=None, description="Inclusive last day.")
    legal_basis: str = Field(min_length=3, max_length=300, description="The citation.")

    @model_validator(mode="after")
    def _range(self) -> SupportRateCreate:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to must not be before effective_from")
        return self


class SupportRateEnd(StrictInput):
    effective_to: date = Field(description="Inclusive last day the rate is in force.")


class SupportRatePublic(BaseModel):
    id: uuid.UUID
    province_code: str | None
    type: SupportType
    unit: SupportUnit
    amount_vnd: int
    max_units: int | None
    effective_from: date
    effective_to: date | None
    legal_basis: str
    created_at: datetime


class Receipt(StrictInput):
    """The receipt an actual-cost support is paid against (hoá đơn, chứng từ)."""

    number: str = Field(min_length=1, max_length=64, description="Encrypted at rest.")
    date: dt.date = Field(description="The day it was issued; not in the future.")
    issuer: str = Field(
        min_length=1, max_length=200, description="Who issued it; encrypted at rest."
    )
    amount_vnd: int = Field(gt=0, le=10_000_000_000)


class ReceiptPublic(BaseModel):
    number: str | None = Field(
        default=None, description="Shown in lists, never in the answer to a create."
    )
    date: dt.date
    issuer: str | None = Field(
        default=None, description="Shown in lists, never in the answer to a create."
    )
    amount_vnd: int


class SupportServiceCreate(StrictInput):
    type: SupportType
    person_id: uuid.UUID | None = Field(
        default=None, description="A person of the case; the victim when omitted."
    )
    quantity: int = Field(gt=0, le=10_000)
    unit: SupportUnit
    service_date: date
    provider_agency_id: uuid.UUID | None = None
    amount_vnd: int | None = Field(
        default=None,
        ge=0,
        le=10_000_000_000,
        description="Supervisor only, with override_reason: replaces the computed amount.",
    )
    override_reason: Reason | None = None
    receipt: Receipt | None = Field(
        default=None,
        description=(
            "Actual cost (medical, interpretation, legal_support, travel) where no rate "
            "is in force: the amount is the receipt's, approved by a supervisor."
        ),
    )
    extension_reason: Reason | None = Field(
        default=None,
        description=(
            "A supervisor of the lead social-affairs agency or of the facility providing "
            "the essential needs: extends the 120-day cap."
        ),
    )

    @model_validator(mode="after")
    def _override_has_reason(self) -> SupportServiceCreate:
        # Both checks, reported together on their fields.
        problems: list[tuple[str, str]] = []
        if self.amount_vnd is not None and not self.override_reason:
            problems.append(("override_reason", msg("override_reason is required with amount_vnd")))
        if self.amount_vnd is not None and self.receipt is not None:
            problems.append(("receipt", msg("give either amount_vnd or a receipt, not both")))
        if problems:
            raise FieldErrors(problems)
        return self


class SupportServiceAction(StrictInput):
    """Body of approve, deliver and cancel (reason optional) and reject (required)."""

    reason: Reason | None = None


class SupportServicePublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    person_id: uuid.UUID
    type: SupportType
    unit: SupportUnit
    quantity: int
    service_date: date
    provider_agency_id: uuid.UUID | None
    rate_id: uuid.UUID | None
    amount_vnd: int
    amount_overridden: bool
    actual_cost: bool
    receipt: ReceiptPublic | None
    cap_extended: bool
    status: SupportStatus
    requested_by: uuid.UUID
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    version: int
    created_at: datetime
