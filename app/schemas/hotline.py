"""API shapes of hotline 111 reports. Identity values and free text reach a response
only in `HotlineReportPublic` (masked unless revealed with a purpose); the list
answer (`HotlineReportSummary`) carries no identity field at all, not even masked."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from app.models.hotline import HotlineChannel, HotlineStatus, HotlineUrgency
from app.models.person import Sex
from app.schemas.codes import CountryCode, ProvinceCode
from app.schemas.common import StrictInput


class CallerInput(StrictInput):
    """The caller may stay anonymous: every field is optional."""

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    relation: str | None = Field(
        default=None, max_length=200, description="The caller's relation to the victims."
    )


class SuspectedVictimInput(StrictInput):
    name: str | None = Field(default=None, max_length=200)
    sex: Sex | None = None
    approximate_age: int | None = Field(default=None, ge=0, le=120)
    location: str | None = Field(default=None, max_length=500)
    nationality: CountryCode | None = Field(
        default=None, description="If known; a case opened from the report assumes VN."
    )


class HotlineReportCreate(StrictInput):
    received_at: AwareDatetime
    channel: HotlineChannel
    caller: CallerInput
    summary: str = Field(min_length=1, max_length=10000)
    province_code: ProvinceCode
    urgency: HotlineUrgency
    suspected_victims: list[SuspectedVictimInput] = Field(default_factory=list, max_length=20)


class TriageAction(StrEnum):
    OPEN_CASE = "open_case"
    FORWARD = "forward"
    CLOSE = "close"


class HotlineTriageCreate(StrictInput):
    action: TriageAction
    to_agency_id: uuid.UUID | None = Field(default=None, description="Required to forward.")
    reason: str | None = Field(
        default=None, min_length=1, max_length=2000, description="Required to close."
    )
    victim_indexes: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None,
        max_length=20,
        description=(
            "For `open_case` only: positions (from 0) in the report's `suspected_victims`;"
            " one case is opened for each, all or none. Unset: the first one."
        ),
    )


class HotlineReportSummary(BaseModel):
    """A report in a list: the skeleton only."""

    id: uuid.UUID
    received_at: datetime
    channel: HotlineChannel
    province_code: str
    urgency: HotlineUrgency
    status: HotlineStatus
    created_by: uuid.UUID
    respond_by: datetime | None = Field(
        description="For `immediate_danger`: answer (triage) by then. Null otherwise."
    )
    responded_at: datetime | None = Field(
        description="When the report was first triaged (a case, a forward or a closure)."
    )
    overdue: bool = Field(description="Past `respond_by` and not answered.")


class CallerPublic(BaseModel):
    person_id: uuid.UUID
    name: str | None
    phone: str | None
    relation: str | None


class SuspectedVictimPublic(BaseModel):
    person_id: uuid.UUID
    name: str | None
    sex: str | None
    approximate_age: int | None
    location: str | None


class HotlineReportPublic(HotlineReportSummary):
    """One report. Unless `revealed`, names and phones are masked and the free text
    (relation, summary, location, closing reason) is withheld (null)."""

    revealed: bool
    owner_agency_id: uuid.UUID
    caller: CallerPublic
    summary: str | None
    suspected_victims: list[SuspectedVictimPublic]
    forwarded_to_agency_id: uuid.UUID | None
    case_id: uuid.UUID | None = Field(description="The first case opened from the report.")
    case_ids: list[uuid.UUID] = Field(description="Every case linked to the report, oldest first.")
    close_reason: str | None
    triaged_at: datetime | None
    triaged_by: uuid.UUID | None
    created_at: datetime
    version: int = Field(description="Also the ETag; triage names it in If-Match.")


class HotlineTriagePublic(BaseModel):
    id: uuid.UUID
    status: HotlineStatus
    forwarded_to_agency_id: uuid.UUID | None
    case_id: uuid.UUID | None = Field(description="For `open_case`: the first case opened.")
    case_ids: list[uuid.UUID] = Field(
        description="For `open_case`: every case opened, in the order of `victim_indexes`."
    )
    triaged_at: datetime
    version: int
