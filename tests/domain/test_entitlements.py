"""The entitlement table of Law 53/2024 (DOMAIN.md)."""

from __future__ import annotations

import pytest

from app.domain.entitlements import (
    ENTITLEMENTS,
    PersonSituation,
    Standing,
    SupportType,
    entitlement,
    standing,
)

T = SupportType


def situation(
    status: str = "identified",
    *,
    minor: bool = False,
    vietnamese: bool = True,
    abroad: bool = False,
) -> PersonSituation:
    return PersonSituation(
        is_accompanying_minor=minor,
        case_status=status,
        vietnamese_or_stateless_resident=vietnamese,
        currently_abroad=abroad,
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (situation("identified"), Standing.IDENTIFIED_VICTIM),
        (situation("supporting"), Standing.IDENTIFIED_VICTIM),
        (situation("identified", minor=True), Standing.ACCOMPANYING_MINOR),
        (situation("verifying", abroad=True), Standing.UNDER_VERIFICATION_ABROAD),
        (situation("received"), Standing.UNDER_VERIFICATION_IN_VIETNAM),
        (situation("identified", vietnamese=False), Standing.FOREIGN),
        (situation("verifying", vietnamese=False), Standing.FOREIGN),
        (situation("not_identified"), None),
        (situation("closed"), None),
    ],
)
def test_standing(case: PersonSituation, expected: Standing | None) -> None:
    assert standing(case) is expected


def test_the_law_table_letter_by_letter() -> None:
    letters = {
        Standing.IDENTIFIED_VICTIM: set(T),
        Standing.ACCOMPANYING_MINOR: {
            T.ESSENTIAL_NEEDS, T.MEDICAL, T.INTERPRETATION, T.LEGAL_SUPPORT,
            T.LEGAL_AID, T.TRAVEL, T.PSYCHOLOGICAL, T.SCHOOLING,
        },
        Standing.UNDER_VERIFICATION_ABROAD: {
            T.ESSENTIAL_NEEDS, T.MEDICAL, T.INTERPRETATION, T.LEGAL_SUPPORT,
        },
        Standing.UNDER_VERIFICATION_IN_VIETNAM: {
            T.ESSENTIAL_NEEDS, T.MEDICAL, T.INTERPRETATION, T.LEGAL_SUPPORT,
            T.LEGAL_AID, T.TRAVEL, T.PSYCHOLOGICAL,
        },
        Standing.FOREIGN: {
            T.ESSENTIAL_NEEDS, T.MEDICAL, T.INTERPRETATION, T.LEGAL_SUPPORT,
            T.LEGAL_AID, T.PSYCHOLOGICAL,
        },
    }  # fmt: skip
    assert {k: set(v) for k, v in ENTITLEMENTS.items()} == letters


def test_refusal_carries_a_reason() -> None:
    decision = entitlement(situation("verifying", abroad=True), T.LOAN)
    assert not decision.allowed
    assert decision.reason and "loan" in decision.reason and "abroad" in decision.reason
    assert entitlement(situation("identified"), T.LOAN).allowed
    assert not entitlement(situation("not_identified"), T.MEDICAL).allowed
