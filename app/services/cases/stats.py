"""The reporting columns of a case: the victim's sex, age at reception, nationality,
ethnic group (Kinh or minority) and home province, kept in plain columns on `cases`
so the reports count them without decrypting anything (DOMAIN.md, "Reports the
provinces must send").

Rule: only coarse, non-identifying values are copied out of the encrypted identity;
never a name, a number, a date or a free-text ethnicity. They are set at intake and
kept in step with every change to the victim's identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.models import Case
from app.security.normalize import name_folded

CHILD_AGE = 16  # Law on Children: under 16 is a child
MINOR_AGE = 18  # under 18 is a minor
# The majority group; every other recorded ethnicity counts as a minority.
_KINH = {"kinh", "viet", "nguoi kinh", "dan toc kinh"}


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def ethnicity_group(ethnicity: str | None) -> str | None:
    """`kinh`, `minority`, or None when not recorded (folded: "Kinh", "KINH", "kinh")."""
    if ethnicity is None or not ethnicity.strip():
        return None
    return "kinh" if name_folded(ethnicity) in _KINH else "minority"


def apply_victim_stats(case: Case, received_day: date, changes: Mapping[str, Any]) -> None:
    """Copy the reporting values of the victim fields present in `changes` (a field
    present with None clears its column). The age flags follow the date of birth."""
    if "sex" in changes:
        case.victim_sex = str(changes["sex"] or "unknown")
    if "nationality" in changes:
        case.victim_nationality = changes["nationality"]
    if "ethnicity" in changes:
        case.victim_ethnicity_group = ethnicity_group(changes["ethnicity"])
    if "hometown_province_code" in changes:
        case.victim_hometown_province_code = changes["hometown_province_code"]
    if "date_of_birth" in changes:
        born = changes["date_of_birth"]
        if isinstance(born, str):
            born = date.fromisoformat(born)
        age = age_on(born, received_day) if born else None
        case.victim_age_at_intake = age
        case.is_child = age is not None and age < CHILD_AGE
        case.is_minor = age is not None and age < MINOR_AGE
