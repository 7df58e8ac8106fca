"""Who is entitled to which support (Law 53/2024/QH15; DOMAIN.md, "Support regimes").

The law lists ten supports by letter: a) essential needs, b) medical, c)
interpretation, d) legal support, đ) legal aid, e) travel, g) psychological, h)
schooling, i) vocational training, k) initial hardship allowance and loans; plus the
first year's health-insurance contribution for a person who has none.

| standing                                                        | entitled to |
|-----------------------------------------------------------------|-------------|
| identified victim, Vietnamese citizen or stateless resident     | a–k (+ HI)  |
| under-18 accompanying such a victim                             | a–h         |
| person under verification, Vietnamese, still abroad             | a–d         |
| person under verification in Vietnam                            | a–g         |
| foreign victim or person under verification trafficked in VN    | a b c d đ g |

Interpretation (kept here, in one place, so a legal review changes one table): an
under-18 travelling with a person who is still under verification gets that person's
standing; a person decided `not_victim` is entitled to nothing further. The victim's
relatives, people who help them and witnesses are protected, not supported: the table
names no support for them (`SUPPORTED_ROLES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.i18n import msg


class SupportType(StrEnum):
    ESSENTIAL_NEEDS = "essential_needs"  # a
    MEDICAL = "medical"  # b
    INTERPRETATION = "interpretation"  # c
    LEGAL_SUPPORT = "legal_support"  # d
    LEGAL_AID = "legal_aid"  # đ
    TRAVEL = "travel"  # e
    PSYCHOLOGICAL = "psychological"  # g
    SCHOOLING = "schooling"  # h
    VOCATIONAL = "vocational"  # i
    INITIAL_ALLOWANCE = "initial_allowance"  # k
    LOAN = "loan"  # k
    HEALTH_INSURANCE = "health_insurance"


LEGAL_LETTER: dict[SupportType, str] = {
    SupportType.ESSENTIAL_NEEDS: "a",
    SupportType.MEDICAL: "b",
    SupportType.INTERPRETATION: "c",
    SupportType.LEGAL_SUPPORT: "d",
    SupportType.LEGAL_AID: "đ",
    SupportType.TRAVEL: "e",
    SupportType.PSYCHOLOGICAL: "g",
    SupportType.SCHOOLING: "h",
    SupportType.VOCATIONAL: "i",
    SupportType.INITIAL_ALLOWANCE: "k",
    SupportType.LOAN: "k",
    SupportType.HEALTH_INSURANCE: "health insurance",
}

# The law's order of letters; "a–h" is a slice of it.
_ORDER = [
    SupportType.ESSENTIAL_NEEDS,
    SupportType.MEDICAL,
    SupportType.INTERPRETATION,
    SupportType.LEGAL_SUPPORT,
    SupportType.LEGAL_AID,
    SupportType.TRAVEL,
    SupportType.PSYCHOLOGICAL,
    SupportType.SCHOOLING,
    SupportType.VOCATIONAL,
    SupportType.INITIAL_ALLOWANCE,
    SupportType.LOAN,
]


def _through(last: SupportType) -> frozenset[SupportType]:
    return frozenset(_ORDER[: _ORDER.index(last) + 1])


class Standing(StrEnum):
    IDENTIFIED_VICTIM = "identified_victim"
    ACCOMPANYING_MINOR = "accompanying_minor"
    UNDER_VERIFICATION_ABROAD = "under_verification_abroad"
    UNDER_VERIFICATION_IN_VIETNAM = "under_verification_in_vietnam"
    FOREIGN = "foreign"


ENTITLEMENTS: dict[Standing, frozenset[SupportType]] = {
    Standing.IDENTIFIED_VICTIM: frozenset(_ORDER) | {SupportType.HEALTH_INSURANCE},
    Standing.ACCOMPANYING_MINOR: _through(SupportType.SCHOOLING),
    Standing.UNDER_VERIFICATION_ABROAD: _through(SupportType.LEGAL_SUPPORT),
    Standing.UNDER_VERIFICATION_IN_VIETNAM: _through(SupportType.PSYCHOLOGICAL),
    Standing.FOREIGN: frozenset(
        {
            SupportType.ESSENTIAL_NEEDS,
            SupportType.MEDICAL,
            SupportType.INTERPRETATION,
            SupportType.LEGAL_SUPPORT,
            SupportType.LEGAL_AID,
            SupportType.PSYCHOLOGICAL,
        }
    ),
}

# The roles in a case (`case_persons.role`) the table gives supports to: the victim (or
# person under verification) and an under-18 accompanying them.
SUPPORTED_ROLES = frozenset({"victim", "minor"})


def no_support_reason(role: str) -> str:
    """Why a person in `role` (not in `SUPPORTED_ROLES`) gets no support."""
    return msg(
        "a person with role '{role}' is entitled to no support: supports are for the "
        "victim or person under verification and an under-18 accompanying them; "
        "relatives, people who help and witnesses are protected, not supported",
        role=role,
    )


# Accommodation and essential needs: at most 120 days unless the facility or the
# provincial health department extends it, with a reason (DOMAIN.md).
ESSENTIAL_NEEDS_MAX_DAYS = 120
CAPPED_TYPES = frozenset({SupportType.ESSENTIAL_NEEDS})

UNDER_VERIFICATION_STATUSES = frozenset({"received", "verifying"})
IDENTIFIED_STATUSES = frozenset({"identified", "supporting", "reintegrating"})


@dataclass(frozen=True)
class PersonSituation:
    """What the law looks at: who the person is in the case, and where the case is."""

    is_accompanying_minor: bool
    case_status: str
    # Vietnamese citizen, or a stateless person resident in Vietnam.
    vietnamese_or_stateless_resident: bool
    currently_abroad: bool


def standing(situation: PersonSituation) -> Standing | None:
    """The person's standing under the law, or None when entitled to nothing (a
    decision `not_victim`, or a closed case)."""
    status = situation.case_status
    if status not in UNDER_VERIFICATION_STATUSES | IDENTIFIED_STATUSES:
        return None
    if not situation.vietnamese_or_stateless_resident:
        return Standing.FOREIGN
    if status in UNDER_VERIFICATION_STATUSES:
        if situation.currently_abroad:
            return Standing.UNDER_VERIFICATION_ABROAD
        return Standing.UNDER_VERIFICATION_IN_VIETNAM
    if situation.is_accompanying_minor:
        return Standing.ACCOMPANYING_MINOR
    return Standing.IDENTIFIED_VICTIM


@dataclass(frozen=True)
class EntitlementDecision:
    allowed: bool
    standing: Standing | None
    reason: str | None = None


def entitlement(situation: PersonSituation, support: SupportType) -> EntitlementDecision:
    """Whether `support` may be given; when not, a reason a case worker can act on."""
    person_standing = standing(situation)
    if person_standing is None:
        return EntitlementDecision(
            False,
            None,
            msg("no support is due in case status '{status}'", status=situation.case_status),
        )
    if support in ENTITLEMENTS[person_standing]:
        return EntitlementDecision(True, person_standing)
    return EntitlementDecision(
        False,
        person_standing,
        msg(
            "support '{support}' (letter {letter}) is not among the supports for "
            "standing '{standing}'",
            support=support.value,
            letter=LEGAL_LETTER[support],
            standing=person_standing.value,
        ),
    )
