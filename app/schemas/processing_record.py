"""The record of processing activities (`GET /api/v1/reports/processing-record`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class DataCategory(BaseModel):
    # `identity`: the person's identity, encrypted under their own key; `statistics`:
    # plain low-entropy columns the reports count.
    category: Literal["identity", "statistics"]
    table: str
    columns: list[str]
    stored: Literal["encrypted", "plain"]


class RecipientKind(BaseModel):
    # A kind of agency that has received referrals (`agency_kinds.code`).
    agency_kind: str
    referrals: int


class LegalBasisUse(BaseModel):
    # A legal basis referrals disclosed data on.
    legal_basis: str
    referrals: int


class RetentionSetting(BaseModel):
    # The environment variable, and its value (null: kept without a time limit).
    setting: str
    value: int | float | None


class ProcessingRecord(BaseModel):
    generated_at: datetime
    data_categories: list[DataCategory]
    # Purposes of use a reader must give to see identity (`X-Purpose-Of-Use`).
    purposes: list[str]
    recipient_agency_kinds: list[RecipientKind]
    legal_bases: list[LegalBasisUse]
    retention: list[RetentionSetting]
