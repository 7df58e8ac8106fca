"""The coded values of the API, one annotated type each, so every input that takes a
country, a province, a commune or an ethnicity refuses what is not on its list (422
naming the field):

- `CountryCode`: an ISO 3166-1 alpha-2 code that exists (pycountry's list); "XX" and
  "QQ" are refused. Answered in upper case.
- `ProvinceCode`: one of the 34 current provinces (`app.domain.admin_units`).
- `HometownProvinceCode`: a current province, or a province code of before the 2025
  reorganisation, as identity papers issued before it still name it; the person
  record keeps the current province and the former code beside it.
- `CommuneCode`: five digits; whether it is a commune of the province given with it
  is checked where both are known (`commune_of`).
- `EthnicityCode`: `app.domain.ethnicities` (01..54, `foreign`, `unknown`).
"""

from __future__ import annotations

from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, Field

from app.domain import admin_units
from app.domain.ethnicities import CODES_DESCRIPTION, ETHNICITIES


def _country(value: str) -> str:
    code = value.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("must be an ISO 3166-1 alpha-2 code of an existing country")
    return code


def _province(value: str) -> str:
    if not admin_units.is_province(value):
        raise ValueError("must be the code of one of the 34 provinces since 2025")
    return value


def _hometown_province(value: str) -> str:
    if admin_units.current_province(value) is None:
        raise ValueError("must be a province code (a former one is kept and mapped)")
    return value


def _ethnicity(value: str) -> str:
    if value not in ETHNICITIES:
        raise ValueError("must be an ethnicity code: 01 to 54, foreign or unknown")
    return value


CountryCode = Annotated[
    str,
    Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 (e.g. VN, CN, LA)."),
    AfterValidator(_country),
]
ProvinceCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{2}$",
        description="A province code of the 2025 reorganisation (34 provinces).",
    ),
    AfterValidator(_province),
]
HometownProvinceCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{2}$",
        description="A current province code, or a former one (before 1 July 2025) as "
        "papers name it: stored as the province it merged into, the former code kept.",
    ),
    AfterValidator(_hometown_province),
]
CommuneCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{5}$",
        description="A commune (xã, phường, đặc khu) code of the 2025 reorganisation, "
        "in the province given with it.",
    ),
]
EthnicityCode = Annotated[
    str,
    Field(description=CODES_DESCRIPTION, json_schema_extra={"enum": list(ETHNICITIES)}),
    AfterValidator(_ethnicity),
]


def commune_of(commune_code: str | None, province_code: str | None) -> str | None:
    """`commune_code` if it is a commune of `province_code` (a validator's helper);
    ValueError otherwise. With no valid province there is nothing to check against:
    the province's own error is the one to read."""
    if commune_code is None or province_code is None:
        return commune_code
    if not admin_units.is_commune_of(commune_code, province_code):
        raise ValueError("must be a commune of the province since 2025")
    return commune_code


class EthnicityPublic(BaseModel):
    code: str = Field(description="01..54 (General Statistics Office), foreign or unknown.")
    name_vi: str
    name_en: str
    group: str = Field(description="What the reports count: kinh, minority, foreign, unknown.")
