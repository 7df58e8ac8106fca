"""Person input: the fields a caller may give, and the rules that make them canonical.

Rules:
- Identity values are stored canonical: names, other names, address and ethnicity in
  NFC with control and invisible characters dropped and single spaces; national IDs
  and phone numbers normalised (`app.security.normalize`); dates as YYYY-MM-DD.
- A date of birth sets the plain birth year; a birth year given with it must agree.
- An ethnicity that is a code of `app.domain.ethnicities` sets the plain ethnic group
  (the API takes codes only; other text, stored before codes, sets no group).
- A hometown province given by a former code (before the 2025 reorganisation) is
  stored as the province it merged into, with the former code kept beside it; a
  current code clears a former one (`app.domain.admin_units`).
- Every error names the field and says what is wrong, never repeating the value.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import admin_units
from app.domain.ethnicities import group_of
from app.errors import ValidationFailed
from app.i18n import msg, text_of
from app.models import Province
from app.models.person import EthnicityGroup, Sex
from app.security import normalize

__all__ = [
    "INDEXED_FIELDS",
    "PLAIN_FIELDS",
    "PersonFields",
    "enum_value",
    "index_inputs",
    "validated",
]

_MAX_LENGTH = {
    "full_name": 200,
    "other_names": 500,
    "address": 500,
    "ethnicity": 100,
}
INDEXED_FIELDS = ("full_name", "date_of_birth", "national_id", "phone")
PLAIN_FIELDS = (
    "sex",
    "nationality",
    "birth_year",
    "ethnicity_group",
    "hometown_province_code",
    "hometown_former_province_code",
)
# Clearing one of these clears the plain values derived from it.
_DERIVED = {
    "ethnicity": ("ethnicity_group",),
    "hometown_province_code": ("hometown_former_province_code",),
}


@dataclass(frozen=True, repr=False)
class PersonFields:
    """Input for a person: identity fields (encrypted) and statistics (plain).

    `None` means "not given". Its repr names the fields that are set, never values.
    """

    full_name: str | None = None
    other_names: str | None = None
    date_of_birth: date | None = None
    national_id: str | None = None
    phone: str | None = None
    address: str | None = None
    ethnicity: str | None = None
    sex: Sex | str | None = None
    nationality: str | None = None
    birth_year: int | None = None
    ethnicity_group: EthnicityGroup | str | None = None
    hometown_province_code: str | None = None
    hometown_former_province_code: str | None = None

    def given(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }

    def __repr__(self) -> str:
        return f"PersonFields(given={sorted(self.given())})"

    @classmethod
    def from_patch(cls, changes: Mapping[str, Any]) -> tuple[PersonFields, frozenset[str]]:
        """A PATCH body (`model_dump(exclude_unset=True)`) as (values to set, fields to
        clear): a key given as null clears that field."""
        known = {f.name for f in fields(cls)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(
                msg("unknown person fields: {names}", names=", ".join(sorted(unknown)))
            )
        values = {k: v for k, v in changes.items() if v is not None}
        cleared = {k for k, v in changes.items() if v is None}
        cleared.update(d for k in list(cleared) for d in _DERIVED.get(k, ()))
        return cls(**values), frozenset(cleared)


async def validated(session: AsyncSession, given: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical values of the given fields, or `ValidationFailed` naming the fields."""
    errors: list[dict[str, str]] = []
    clean: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        errors.append({"field": name, "message": message})

    for name, value in given.items():
        try:
            clean[name] = canonical_value(name, value)
        except ValueError as exc:  # messages from here and normalize never quote values
            fail(name, text_of(exc))
    dob = clean.get("date_of_birth")
    if dob is not None:
        year = date.fromisoformat(dob).year
        if clean.setdefault("birth_year", year) != year:
            fail("birth_year", "does not match date_of_birth")
    if "ethnicity" in clean and "ethnicity_group" not in clean:
        clean["ethnicity_group"] = group_of(clean["ethnicity"])
    code = clean.get("hometown_province_code")
    if code is not None:
        current = admin_units.current_province(code)
        if current is None or await session.get(Province, current) is None:
            fail("hometown_province_code", "unknown province code")
        else:
            clean["hometown_province_code"] = current
            clean["hometown_former_province_code"] = code if code != current else None
    if errors:
        raise ValidationFailed(errors)
    return clean


async def field_errors(
    session: AsyncSession,
    prefix: str,
    fields: PersonFields,
    names: Mapping[str, str] | None = None,
) -> list[dict[str, str]]:
    """The problems `validated` finds in `fields`, named as the request names them
    (`victim.national_id`, `caller.name` with `names={"full_name": "name"}`): a
    request's checks report them together with their own."""
    try:
        await validated(session, fields.given())
    except ValidationFailed as exc:
        return [
            {**e, "field": f"{prefix}.{(names or {}).get(e['field'], e['field'])}"}
            for e in exc.extra.get("errors", [])
        ]
    return []


def _clean_text(value: str) -> str:
    """NFC, control and invisible format characters dropped, whitespace runs made one
    space: the stored form of a name or address (case and diacritics kept)."""
    text = "".join(
        " " if ch.isspace() else ch
        for ch in unicodedata.normalize("NFC", value)
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    return " ".join(text.split())


def enum_value(enum: type[StrEnum], value: Any) -> str:
    """`value` as a member of `enum`; `ValueError` listing the members otherwise."""
    try:
        return enum(value).value
    except ValueError:
        # The enum's own message quotes the value.
        raise ValueError(
            msg("must be one of: {expected}", expected=", ".join(m.value for m in enum))
        ) from None


def canonical_value(name: str, value: Any) -> Any:
    if name in _MAX_LENGTH:
        if not isinstance(value, str):
            raise ValueError("must be text")
        text = _clean_text(value)
        if not text:
            raise ValueError("must not be empty")
        if len(text) > _MAX_LENGTH[name]:
            raise ValueError(
                msg("must be at most {max_length} characters", max_length=_MAX_LENGTH[name])
            )
        if name == "full_name" and not normalize.name_folded(text):
            raise ValueError("must contain letters")
        return text
    if name == "date_of_birth":
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValueError("must be a date")
        if value.year < 1900 or value > datetime.now(UTC).date():
            raise ValueError("must be a past date after 1900")
        return value.isoformat()
    if name == "national_id":
        return normalize.national_id(str(value))
    if name == "phone":
        return normalize.phone_e164(str(value))
    if name == "sex":
        return enum_value(Sex, value)
    if name == "ethnicity_group":
        return enum_value(EthnicityGroup, value)
    if name == "nationality":
        code = str(value).strip().upper()
        if not (len(code) == 2 and code.isascii() and code.isalpha()):
            raise ValueError("must be an ISO 3166 alpha-2 country code")
        return code
    if name == "birth_year":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a year")
        if not 1900 <= value <= datetime.now(UTC).year:
            raise ValueError("must be a year between 1900 and this year")
        return value
    if name in ("hometown_province_code", "hometown_former_province_code"):
        return str(value).strip()
    raise ValueError("is not a person field")


def index_inputs(values: Mapping[str, Any]) -> dict[str, Any]:
    """What the blind indexer takes, from canonical values."""
    inputs = {name: values.get(name) for name in INDEXED_FIELDS}
    if inputs["date_of_birth"] is not None:
        inputs["date_of_birth"] = date.fromisoformat(inputs["date_of_birth"])
    return inputs
