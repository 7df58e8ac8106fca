"""API shapes of cases. Identity values reach a response only through `PersonPublic`,
built from a `PersonView` (masked unless revealed with a purpose); list and search
answers carry the skeleton (`CaseSummary`) and no identity field at all."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.domain.age import MAX_AGE, AgeBasis
from app.domain.first_days import FirstNeed, RiskLevel
from app.domain.workflow import CaseStatus, ClosureCode
from app.models.person import Sex
from app.schemas.codes import (
    CommuneCode,
    CountryCode,
    EthnicityCode,
    HometownProvinceCode,
    ProvinceCode,
    commune_of,
)
from app.schemas.common import StrictInput


class IntakeSource(StrEnum):
    HOTLINE = "hotline"
    POLICE_RESCUE = "police_rescue"
    BORDER_HANDOVER = "border_handover"
    REPATRIATION = "repatriation"
    SELF_REPORT = "self_report"
    COMMUNE = "commune"
    NGO = "ngo"
    OTHER = "other"


class ExploitationType(StrEnum):
    SEXUAL = "sexual"
    FORCED_LABOUR = "forced_labour"
    FORCED_MARRIAGE = "forced_marriage"
    BABY_SELLING = "baby_selling"
    ORGAN_REMOVAL = "organ_removal"
    FORCED_BEGGING = "forced_begging"
    OTHER = "other"


AgeEstimate = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_AGE,
        description="Whole years, when the date of birth is unknown (a date of birth wins).",
    ),
]


class CommuneArrival(StrictInput):
    """A receiving body other than the commune brings the person to the commune at once."""

    commune_code: CommuneCode
    brought_at: AwareDatetime


class ReceivedLocation(StrictInput):
    province_code: ProvinceCode
    commune_code: CommuneCode | None = None

    @field_validator("commune_code")
    @classmethod
    def _in_the_province(cls, value: str | None, info: ValidationInfo) -> str | None:
        return commune_of(value, info.data.get("province_code"))


class IdentityInput(StrictInput):
    """The identity fields of a person of a case (the victim's, and those of a person
    added later: `app.schemas.case_persons`); a name or a national ID is enough."""

    full_name: str | None = Field(default=None, max_length=200)
    other_names: str | None = Field(default=None, max_length=500)
    date_of_birth: date | None = None
    ethnicity: EthnicityCode | None = None
    national_id: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=500)
    hometown_province_code: HometownProvinceCode | None = None
    age_estimate: AgeEstimate | None = None

    @model_validator(mode="after")
    def _named_or_numbered(self) -> IdentityInput:
        if not (self.full_name or self.national_id):
            raise ValueError("give full_name or national_id")
        return self


class VictimInput(IdentityInput):
    """Many victims arrive without papers: a name or a national ID is enough, with sex
    and nationality."""

    sex: Sex
    nationality: CountryCode


class MinorInput(StrictInput):
    full_name: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    relation: str | None = Field(default=None, max_length=40)


class CaseCreate(StrictInput):
    intake_source: IntakeSource
    received_at: AwareDatetime
    received_location: ReceivedLocation
    victim: VictimInput
    accompanying_minors: list[MinorInput] = Field(default_factory=list, max_length=20)
    exploitation_types: list[ExploitationType] = Field(default_factory=list, max_length=7)
    destination_country: CountryCode | None = None
    hotline_report_id: uuid.UUID | None = None
    currently_abroad: bool = False
    first_needs: list[FirstNeed] = Field(default_factory=list, max_length=len(FirstNeed))
    risk_level: RiskLevel | None = None
    brought_to_commune: CommuneArrival | None = Field(
        default=None,
        description="Which commune the person was brought to, and when (an intake by any "
        "body other than the commune).",
    )


class VictimPatch(StrictInput):
    """Identity changes; a field given as null clears it (sex and nationality cannot
    be cleared)."""

    full_name: str | None = Field(default=None, max_length=200)
    other_names: str | None = Field(default=None, max_length=500)
    date_of_birth: date | None = None
    sex: Sex | None = None
    nationality: CountryCode | None = None
    ethnicity: EthnicityCode | None = None
    national_id: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=500)
    hometown_province_code: HometownProvinceCode | None = None
    age_estimate: AgeEstimate | None = None


class AgeCorrection(StrictInput):
    """A supervisor's correction of what the age flags rest on: keep the presumption
    of minority over an estimate, or end it in favour of the estimate."""

    basis: Literal[AgeBasis.ESTIMATE, AgeBasis.PRESUMED_MINOR]
    age_estimate: AgeEstimate | None = None
    reason: str = Field(min_length=1, max_length=2000)


class CaseUpdate(StrictInput):
    assigned_to: uuid.UUID | None = None
    exploitation_types: list[ExploitationType] | None = Field(default=None, max_length=7)
    destination_country: CountryCode | None = None
    currently_abroad: bool | None = None
    victim: VictimPatch | None = None
    first_needs: list[FirstNeed] | None = Field(default=None, max_length=len(FirstNeed))
    risk_level: RiskLevel | None = None
    brought_to_commune: CommuneArrival | None = None
    age: AgeCorrection | None = Field(
        default=None, description="Supervisors only (cases:approve), with a reason."
    )


class TransitionCreate(StrictInput):
    to: CaseStatus
    reason: str | None = Field(default=None, max_length=2000)
    closure_code: ClosureCode | None = Field(
        default=None,
        description="With `to: closed`: `handed_back` (trao trả), a victim who is not "
        "Vietnamese handed back to their country.",
    )


class PersonPublic(BaseModel):
    """A person of a case: identity values masked unless `revealed`."""

    id: uuid.UUID
    revealed: bool
    erased: bool
    full_name: str | None
    other_names: str | None
    date_of_birth: str | None
    national_id: str | None
    phone: str | None
    address: str | None
    ethnicity: str | None
    sex: str | None
    nationality: str | None
    birth_year: int | None
    hometown_province_code: str | None
    hometown_former_province_code: str | None = Field(
        default=None,
        description="The former province code the hometown was given as (before the "
        "2025 reorganisation); hometown_province_code is the province it merged into.",
    )


class MinorPublic(BaseModel):
    person: PersonPublic
    relation: str | None


class CasePersonKind(StrEnum):
    """A person of a case other than the victim (`app.schemas.case_persons`)."""

    RELATIVE = "relative"
    ACCOMPANYING_MINOR = "accompanying_minor"
    HELPER = "helper"
    WITNESS = "witness"


class CasePersonPublic(PersonPublic):
    """A person of the case other than the victim, identity masked unless `revealed`."""

    kind: CasePersonKind
    relation: str | None
    age_estimate: int | None
    is_minor: bool | None = Field(
        description="Under 18 when added; null when nothing says (an adult of unknown age)."
    )
    age_basis: Literal["date_of_birth", "estimate", "presumed_minor"] | None
    added_at: datetime
    version: int = Field(description="The person record's version (its ETag).")


class CaseSummary(BaseModel):
    """The case skeleton: no identity field, not even masked."""

    id: uuid.UUID
    case_number: str
    status: CaseStatus
    province_code: str = Field(description="The reception province (it numbers the case).")
    current_province_code: str | None = Field(
        default=None,
        description="Where the case is handled now, after a transfer to another province; "
        "null while it is the reception province.",
    )
    received_commune_code: str | None
    intake_source: str
    received_at: datetime
    owner_agency_id: uuid.UUID
    assigned_to: uuid.UUID | None
    exploitation_types: list[str]
    destination_country: str | None
    currently_abroad: bool
    is_child: bool = Field(description="Under 16 (Law on Children).")
    is_minor: bool = Field(description="Under 18, or presumed so while the age is unknown.")
    age_basis: AgeBasis
    age_estimate: int | None
    first_needs: list[FirstNeed]
    risk_level: RiskLevel | None
    brought_to_commune_code: str | None
    brought_to_commune_at: datetime | None
    hotline_report_id: uuid.UUID | None
    next_due_at: datetime | None = Field(
        description="The next legal deadline; until the verification is recorded, the "
        "initial-verification deadline (3 days from intake)."
    )
    verified_at: datetime | None = Field(
        default=None,
        description="When the initial verification was completed, from its record "
        "(POST …/verification); null until recorded.",
    )
    closed_at: datetime | None
    closure_code: ClosureCode | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class CasePublic(CaseSummary):
    """The whole case, as its lead agency (or a former lead) reads it."""

    view: Literal["whole"] = "whole"
    victim: PersonPublic
    accompanying_minors: list[MinorPublic]
    persons: list[CasePersonPublic] = Field(
        description="Every person of the case but the victim (as GET …/persons lists them)."
    )


class CaseSharedView(BaseModel):
    """The case as a participating agency reads it: exactly the fields its accepted
    referrals share, identity values masked unless revealed with a purpose."""

    id: uuid.UUID
    view: Literal["participant"] = "participant"
    roles: list[str] = Field(description="The agency's roles on the case (referral purposes).")
    referral_ids: list[uuid.UUID]
    shared_fields: list[str]
    revealed: bool
    shared: dict[str, Any] = Field(description="{dotted field name: value}")
    version: int


class PossibleDuplicate(BaseModel):
    case_id: uuid.UUID
    case_number: str
    match: Literal["national_id", "name_and_birth_date", "phone"]


class CaseIntakePublic(CasePublic):
    """Possible duplicates are only reported, never merged; only cases the caller may
    read are named."""

    possible_duplicates: list[PossibleDuplicate]


class TimelineEntryPublic(BaseModel):
    id: uuid.UUID
    kind: str
    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_agency_id: uuid.UUID | None
    from_status: str | None
    to_status: str | None
    ref_type: str | None
    ref_id: uuid.UUID | None
    detail: str | None
    note: str | None = Field(description="The reason or note, decrypted.")


class CaseSearchResult(BaseModel):
    """Exact matches, newest first (at most 100), a page at a time like every list."""

    items: list[CaseSummary]
    next_cursor: str | None = None
