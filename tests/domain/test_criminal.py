"""The criminal proceedings' stage rules, and refusals that name a set of functions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.criminal import (
    ProceedingOutcome,
    ProceedingStage,
    Stamps,
    check_move,
    check_outcome,
    stamps,
)
from app.domain.participation import (
    ParticipantRole,
    Participation,
    refusal,
    service_refusal,
)

S, Out = ProceedingStage, ProceedingOutcome
NOW = datetime(2026, 12, 3, tzinfo=UTC)
# The audit writer's pattern for reason codes.
CODE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")


def test_forward_only_and_closed_is_final() -> None:
    assert check_move(S.REPORTED, S.TRIED) is None  # skipping is allowed
    assert check_move(S.TRIED, S.TRIED) is None  # restating gives the verdict
    why = check_move(S.PROSECUTED, S.INVESTIGATING)
    assert why is not None and why.kind == "backwards"
    why = check_move(S.CLOSED, S.CLOSED)
    assert why is not None and why.kind == "closed"


@pytest.mark.parametrize(
    ("stage", "outcome", "ok"),
    [
        (S.INVESTIGATING, None, True),
        (S.INVESTIGATING, Out.DISMISSED, False),
        (S.TRIED, None, True),
        (S.TRIED, Out.ACQUITTED, True),
        (S.TRIED, Out.SUSPENDED, False),
        (S.CLOSED, None, False),
        (S.CLOSED, Out.SUSPENDED, True),
    ],
)
def test_outcomes_per_stage(stage: S, outcome: Out | None, ok: bool) -> None:
    assert (check_outcome(stage, outcome) is None) is ok


def test_stamps_are_set_once() -> None:
    none = Stamps(None, None)
    assert stamps(S.INVESTIGATING, None, none, NOW) == none
    assert stamps(S.PROSECUTED, None, none, NOW) == Stamps(NOW, None)
    assert stamps(S.CLOSED, Out.SUSPENDED, none, NOW) == none
    assert stamps(S.CLOSED, Out.DISMISSED, none, NOW) == Stamps(NOW, None)
    assert stamps(S.CLOSED, Out.CONVICTED, none, NOW) == Stamps(NOW, NOW)
    earlier = NOW - timedelta(days=30)
    assert stamps(S.TRIED, Out.CONVICTED, Stamps(earlier, None), NOW) == Stamps(earlier, NOW)


def test_a_refusal_naming_several_functions_is_an_audit_code() -> None:
    lead = refusal(
        "criminal_proceeding.create",
        lead=True,
        former_lead=False,
        participations=(),
        functions={"receive", "verify", "support"},
    )
    assert lead is not None and CODE.match(lead.reason)
    assert lead.reason == "missing_function:investigate:investigate_border"
    assert "'investigate'" in lead.message and "'investigate_border'" in lead.message
    for functions in ({"investigate"}, {"investigate_border"}):
        assert (
            refusal(
                "criminal_proceeding.update",
                lead=True,
                former_lead=False,
                participations=(),
                functions=functions,
            )
            is None
        )
    # The same for a service two functions may deliver (it was a 500 before).
    support = Participation("r", ParticipantRole.SUPPORT, frozenset({"medical"}), frozenset())
    why = service_refusal("medical", [support], {"legal_aid"})
    assert why is not None and CODE.match(why.reason), why
