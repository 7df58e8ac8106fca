"""The step -> function tables (pure): a step needs any one of its functions; a
closure code's own rules."""

from __future__ import annotations

import pytest

from app.domain.agency_functions import REFERRAL_RECEIVER, lacking
from app.domain.participation import (
    ACTION_FUNCTIONS,
    refusal,
    service_function_refusal,
)
from app.domain.workflow import (
    CaseStatus,
    ClosureCode,
    IllegalTransition,
    check_transition,
    closure_refusal,
)

BORDER_GUARD = ["receive", "verify", "protect", "hand_over", "refer"]


def test_lacking_names_the_alternatives() -> None:
    needed = REFERRAL_RECEIVER["repatriation"]
    assert lacking(needed, BORDER_GUARD) is None
    assert lacking(needed, ["receive"]) == "hand_over or repatriate"


def test_the_lead_needs_protect_for_measures() -> None:
    assert ACTION_FUNCTIONS["protection_measure.create"] == "protect"
    why = refusal(
        "protection_measure.create",
        lead=True,
        former_lead=False,
        participations=(),
        functions=["receive", "first_support"],
    )
    assert why is not None and why.reason == "missing_function:protect"


def test_a_service_refusal_names_every_function_in_a_valid_audit_code() -> None:
    why = service_function_refusal("travel", ["loans"])
    assert why is not None
    assert why.reason == "missing_function:first_support:repatriate:support"
    assert why.function == "first_support or repatriate or support"
    assert service_function_refusal("loan", ["loans"]) is None


@pytest.mark.parametrize(
    ("target", "foreign", "refused"),
    [
        (CaseStatus.CLOSED, True, False),
        (CaseStatus.CLOSED, False, True),
        (CaseStatus.SUPPORTING, True, True),
    ],
)
def test_handed_back_closes_a_foreign_victims_case_only(
    target: CaseStatus, foreign: bool, refused: bool
) -> None:
    why = closure_refusal(ClosureCode.HANDED_BACK, target, foreign_victim=foreign)
    assert (why is not None) is refused


def test_handing_back_is_also_the_border_guards_and_a_missions_closure() -> None:
    with pytest.raises(IllegalTransition):
        check_transition(
            CaseStatus.IDENTIFIED, CaseStatus.CLOSED, agency_functions=BORDER_GUARD, reason="x"
        )
    move = check_transition(
        CaseStatus.IDENTIFIED,
        CaseStatus.CLOSED,
        agency_functions=BORDER_GUARD,
        reason="x",
        closure=ClosureCode.HANDED_BACK,
    )
    assert move.target is CaseStatus.CLOSED
    with pytest.raises(IllegalTransition):
        check_transition(
            CaseStatus.IDENTIFIED,
            CaseStatus.CLOSED,
            agency_functions=["loans"],
            reason="x",
            closure=ClosureCode.HANDED_BACK,
        )
