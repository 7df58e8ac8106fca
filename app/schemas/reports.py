"""Response shapes of the reports (summary and periodic)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SummaryDimension(StrEnum):
    SEX = "sex"
    AGE_BAND = "age_band"
    PROVINCE = "province"
    DESTINATION_COUNTRY = "destination_country"
    EXPLOITATION_TYPE = "exploitation_type"
    SUPPORT_TYPE = "support_type"
    STATUS = "status"
    INTAKE_SOURCE = "intake_source"
    ETHNICITY_GROUP = "ethnicity_group"


class AgeBands(StrEnum):
    HOTLINE = "hotline"
    CTDC = "ctdc"


class PeriodicFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


Suppressed = Literal["<11"]


class SummaryFigure(BaseModel):
    """A cell (every dimension), a margin (one) or the total (none). Every measure of
    a figure of 1 to 10 persons, or of its complementary suppressions, is `"<11"`
    (the amount null) and `suppressed` is true."""

    model_config = ConfigDict(from_attributes=True)

    group: dict[str, str] = Field(description="Dimension → value; empty for the total.")
    persons: int | Suppressed = Field(description="Distinct victims.")
    cases: int | Suppressed
    services: int | Suppressed = Field(description="Support services delivered to these cases.")
    amount_vnd: int | None = Field(description="VND of those services; null when suppressed.")
    suppressed: bool


class SummaryReport(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    scope: str = Field(description="A province code, or `national`.")
    province_code: str | None
    from_date: date | None
    to_date: date | None
    group_by: list[SummaryDimension]
    age_bands: AgeBands
    multi_valued: bool = Field(
        description="A grouping by exploitation or support type counts a person in "
        "several cells; margins and total still count each person once."
    )
    threshold: int
    suppression: Literal["complementary"]
    cells: list[SummaryFigure]
    margins: list[SummaryFigure]
    total: SummaryFigure
    notes: list[str]


class PeriodicPart(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    label: str
    count: int
    amount_vnd: int | None = None
    hotspot: bool = Field(
        default=False, description="A hotspot commune of the scope (breakdown `commune`)."
    )


class PeriodicTarget(BaseModel):
    """One of the plans' 100% targets: `numerator` of `denominator`."""

    model_config = ConfigDict(from_attributes=True)

    key: Literal["received_verified", "in_need_supported", "reports_handled"]
    label: str
    numerator: int
    denominator: int
    percent: float | None = Field(description="One decimal; null when the denominator is 0.")
    target_percent: int


class PeriodicBreakdown(BaseModel):
    """One section of the return; its parts add up to `total` (`multi_valued`: the
    total counts mentions)."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    title: str
    total: int
    parts: list[PeriodicPart]
    amount_vnd: int | None = None
    multi_valued: bool


class PeriodicReport(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    period: str
    period_kind: Literal["annual", "six_monthly", "quarterly", "calendar_half", "dates"]
    calendar: str | None = Field(
        description="The calendar that defined a named period: `default` or a province "
        "code; null for calendar halves and explicit dates."
    )
    first_day: date
    last_day: date
    scope: str
    province_code: str | None
    language: Literal["vi", "en"] = Field(description="The language of titles and labels.")
    hotline_received: int
    hotline_resolved: int = Field(description="Triaged into a case, or closed with a reason.")
    hotline_forwarded: int = Field(description="Forwarded to another agency (not resolved).")
    hotline_open: int
    persons_received: int
    persons_verified: int = Field(
        description="Cases whose initial verification record was completed in the period "
        "(not cases moved to `verifying`)."
    )
    persons_identified: int
    persons_received_in_hotspots: int
    targets: list[PeriodicTarget]
    breakdowns: list[PeriodicBreakdown]
