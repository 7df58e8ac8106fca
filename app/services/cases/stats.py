"""The reporting columns of a case: the victim's sex, age at reception, nationality,
ethnic group (`kinh`, `minority`, `foreign`, `unknown`, from the ethnicity code) and
home province (the current one, a former code mapped), kept in plain columns on `cases`
so the reports count them without decrypting anything (DOMAIN.md, "Reports the
provinces must send").

Rule: only coarse, non-identifying values are copied out of the encrypted identity;
never a name, a number, a date or the ethnicity itself. They are set at intake and
kept in step with every change to the victim's identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.domain import admin_units
from app.domain.age import Age, AgeBasis, assess
from app.domain.ethnicities import group_of
from app.models import Case


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def apply_victim_stats(case: Case, received_day: date, changes: Mapping[str, Any]) -> None:
    """Copy the reporting values of the victim fields present in `changes` (a field
    present with None clears its column). The age flags follow the date of birth."""
    if "sex" in changes:
        case.victim_sex = str(changes["sex"] or "unknown")
    if "nationality" in changes:
        case.victim_nationality = changes["nationality"]
    if "ethnicity" in changes:
        case.victim_ethnicity_group = group_of(changes["ethnicity"])
    if "hometown_province_code" in changes:
        code = changes["hometown_province_code"]
        case.victim_hometown_province_code = code and admin_units.current_province(code)
    apply_age(case, received_day, changes)


def apply_age(case: Case, received_day: date, changes: Mapping[str, Any]) -> None:
    """The age flags and basis from the date of birth or the estimate in `changes`
    (the other one as stored), by `app.domain.age.assess`. A presumption of minority
    a supervisor kept over an estimate stays until a date of birth is recorded."""
    if "date_of_birth" not in changes and "age_estimate" not in changes:
        return
    kept = case.age_basis == AgeBasis.PRESUMED_MINOR.value and case.age_estimate is not None
    if "age_estimate" in changes:
        case.age_estimate = changes["age_estimate"]
    if "date_of_birth" in changes:
        born = changes["date_of_birth"]
        if isinstance(born, str):
            born = date.fromisoformat(born)
        from_birth = age_on(born, received_day) if born else None
    else:
        from_birth = recorded_age_from_birth(case)
    set_age(case, assess(from_birth, case.age_estimate, keep_presumption=kept))


def recorded_age_from_birth(case: Case) -> int | None:
    """The age at reception the recorded date of birth gives (None without one)."""
    if case.age_basis == AgeBasis.DATE_OF_BIRTH.value:
        return case.victim_age_at_intake
    return None


def set_age(case: Case, age: Age) -> None:
    case.age_basis = age.basis.value
    case.victim_age_at_intake = age.years
    case.is_child = age.is_child
    case.is_minor = age.is_minor
