"""The case state machine and its deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.participation import ROLE_ACTIONS, ParticipantRole
from app.domain.workflow import (
    MOVES,
    CaseStatus,
    DeadlinePolicy,
    IllegalTransition,
    allowed_targets,
    check_transition,
)
from app.models.referral import ReferralPurpose

S = CaseStatus
SOCIAL = ["receive", "verify", "verify_lead", "support", "protect", "refer", "transfer"]
POLICE = ["receive", "verify", "identify", "investigate", "protect", "refer"]
COMMUNE = ["receive", "first_support", "notify", "refer"]


def test_every_status_is_reachable_and_closed_is_terminal() -> None:
    targets = {m.target for m in MOVES} | {S.RECEIVED}
    assert targets == set(CaseStatus)
    assert not [m for m in MOVES if m.source is S.CLOSED]


def test_verification_needs_an_agency_that_verifies() -> None:
    assert check_transition(S.RECEIVED, S.VERIFYING, agency_functions=SOCIAL, reason=None)
    with pytest.raises(IllegalTransition, match="verify"):
        check_transition(S.RECEIVED, S.VERIFYING, agency_functions=COMMUNE, reason=None)


def test_identification_only_by_decision_of_a_competent_agency() -> None:
    with pytest.raises(IllegalTransition, match="identification decision"):
        check_transition(S.VERIFYING, S.IDENTIFIED, agency_functions=POLICE, reason=None)
    assert check_transition(
        S.VERIFYING, S.IDENTIFIED, agency_functions=POLICE, reason=None, by_decision=True
    )
    with pytest.raises(IllegalTransition, match="identify"):
        check_transition(
            S.VERIFYING, S.NOT_IDENTIFIED, agency_functions=SOCIAL, reason=None, by_decision=True
        )


def test_closing_requires_a_reason() -> None:
    with pytest.raises(IllegalTransition, match="reason"):
        check_transition(S.SUPPORTING, S.CLOSED, agency_functions=SOCIAL, reason="  ")
    assert check_transition(S.SUPPORTING, S.CLOSED, agency_functions=SOCIAL, reason="moved")


def test_illegal_move_lists_allowed_ones() -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(S.RECEIVED, S.SUPPORTING, agency_functions=SOCIAL, reason=None)
    assert info.value.allowed == ["closed", "verifying"]


def test_allowed_targets_hide_decision_moves() -> None:
    assert allowed_targets(S.VERIFYING, POLICE) == []
    assert set(allowed_targets(S.VERIFYING, POLICE, by_decision=True)) == {
        S.IDENTIFIED,
        S.NOT_IDENTIFIED,
    }


def test_initial_verification_due_three_days_after_intake() -> None:
    received = datetime(2026, 3, 1, 8, tzinfo=UTC)
    policy = DeadlinePolicy()
    assert policy.due_for(S.RECEIVED, received, verified=False) == received + timedelta(days=3)
    assert policy.due_for(S.VERIFYING, received, verified=True) is None
    configured = DeadlinePolicy(identification_days=30)
    assert configured.due_for(S.VERIFYING, received, verified=True) == received + timedelta(days=30)


def test_only_the_verification_record_meets_the_initial_deadline() -> None:
    """Moving to `verifying` is not verifying: without the record the 3-day deadline
    stays the case's next one, and with it the next step's deadline follows."""
    received = datetime(2026, 3, 1, 8, tzinfo=UTC)
    three_days = received + timedelta(days=3)
    assert DeadlinePolicy().due_for(S.VERIFYING, received, verified=False) == three_days
    configured = DeadlinePolicy(identification_days=30, support_plan_days=60)
    assert configured.due_for(S.VERIFYING, received, verified=False) == three_days
    assert configured.due_for(S.RECEIVED, received, verified=False) == three_days
    assert configured.due_for(S.RECEIVED, received, verified=True) == received + timedelta(days=30)
    assert DeadlinePolicy().due_for(S.RECEIVED, received, verified=True) is None
    # After the identification decision the verification step is over.
    assert configured.due_for(S.IDENTIFIED, received, verified=False) == received + timedelta(
        days=60
    )
    assert DeadlinePolicy().due_for(S.CLOSED, received, verified=False) is None


def test_participant_roles_are_the_referral_purposes_but_transfer() -> None:
    """A role on a case is the purpose of the referral that made it (a transfer moves
    the lead instead): the two enumerations stay in step."""
    assert {r.value for r in ParticipantRole} == {p.value for p in ReferralPurpose} - {"transfer"}
    assert set(ROLE_ACTIONS) == set(ParticipantRole)
