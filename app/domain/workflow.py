"""The case state machine: the one place that says which status may follow which.

States follow the path of a case (DOMAIN.md): received (tiếp nhận) → verifying (xác
minh) → identified | not_identified (xác định nạn nhân) → supporting (hỗ trợ) →
reintegrating (tái hòa nhập) → closed.

Each move names the agency function it needs (agency kinds carry their functions as
data, see `agency_kinds.functions`), whether the law expects a reason, and whether it
may only happen as the effect of an identification decision (so nobody marks a person
a victim without a decision and its evidence). Services call `check_transition`; an
illegal move raises `IllegalTransition`, which lists the moves that are allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.i18n import msg


class CaseStatus(StrEnum):
    RECEIVED = "received"
    VERIFYING = "verifying"
    IDENTIFIED = "identified"
    NOT_IDENTIFIED = "not_identified"
    SUPPORTING = "supporting"
    REINTEGRATING = "reintegrating"
    CLOSED = "closed"


S = CaseStatus


@dataclass(frozen=True)
class Move:
    source: CaseStatus
    target: CaseStatus
    # The agency function the acting agency's kind must have (DOMAIN.md table).
    function: str
    reason_required: bool = False
    # Only an identification decision (victim / not_victim) makes this move.
    by_decision_only: bool = False


MOVES: tuple[Move, ...] = (
    Move(S.RECEIVED, S.VERIFYING, "verify"),
    Move(S.RECEIVED, S.CLOSED, "receive", reason_required=True),
    Move(S.VERIFYING, S.IDENTIFIED, "identify", by_decision_only=True),
    Move(S.VERIFYING, S.NOT_IDENTIFIED, "identify", by_decision_only=True),
    Move(S.IDENTIFIED, S.SUPPORTING, "support"),
    Move(S.IDENTIFIED, S.REINTEGRATING, "support", reason_required=True),
    Move(S.IDENTIFIED, S.CLOSED, "support", reason_required=True),
    Move(S.SUPPORTING, S.REINTEGRATING, "support"),
    Move(S.SUPPORTING, S.CLOSED, "support", reason_required=True),
    Move(S.REINTEGRATING, S.CLOSED, "support", reason_required=True),
    # New evidence reopens a negative decision; the law expects the grounds on record.
    Move(S.NOT_IDENTIFIED, S.VERIFYING, "verify", reason_required=True),
    Move(S.NOT_IDENTIFIED, S.CLOSED, "receive", reason_required=True),
)
_BY_PAIR = {(m.source, m.target): m for m in MOVES}


class ClosureCode(StrEnum):
    """Why a case closed, where the law names the ending (optional on a closing move)."""

    # Trao trả: a foreign victim handed back to their country.
    HANDED_BACK = "handed_back"


@dataclass(frozen=True)
class Closure:
    # Only for a victim who is not Vietnamese (nor a stateless resident of Vietnam).
    foreign_victim_only: bool = False
    # Functions that may make this closure besides the move's own: the border guard
    # hands a foreign victim over at the border, a mission repatriates.
    functions: frozenset[str] = frozenset()


CLOSURES: dict[ClosureCode, Closure] = {
    ClosureCode.HANDED_BACK: Closure(
        foreign_victim_only=True, functions=frozenset({"hand_over", "repatriate"})
    ),
}


def closure_refusal(code: ClosureCode, target: CaseStatus, *, foreign_victim: bool) -> str | None:
    """None when `code` may close this case, else why not."""
    if target is not CaseStatus.CLOSED:
        return msg("is only given when closing a case")
    if CLOSURES[code].foreign_victim_only and not foreign_victim:
        return msg("'{code}' is only for a victim who is not Vietnamese", code=code.value)
    return None


class IllegalTransition(Exception):
    """The move is not allowed; `allowed` lists the targets that are, from here."""

    def __init__(self, message: str, allowed: Iterable[CaseStatus]) -> None:
        super().__init__(message)
        self.allowed = sorted(a.value for a in allowed)


def allowed_targets(
    source: CaseStatus, agency_functions: Iterable[str], *, by_decision: bool = False
) -> list[CaseStatus]:
    functions = set(agency_functions)
    return [
        m.target
        for m in MOVES
        if m.source == source
        and m.function in functions
        and (by_decision or not m.by_decision_only)
    ]


def check_transition(
    source: CaseStatus,
    target: CaseStatus,
    *,
    agency_functions: Iterable[str],
    reason: str | None,
    by_decision: bool = False,
    closure: ClosureCode | None = None,
) -> Move:
    """Return the move if this agency may make it now, else raise IllegalTransition.
    A closure code may let other functions close (`CLOSURES`); its other rules are
    `closure_refusal`'s."""
    functions = set(agency_functions)
    allowed = allowed_targets(source, functions, by_decision=by_decision)
    move = _BY_PAIR.get((source, target))
    if move is None:
        raise IllegalTransition(
            msg("'{source}' cannot move to '{target}'", source=source.value, target=target.value),
            allowed,
        )
    if move.by_decision_only and not by_decision:
        raise IllegalTransition(
            msg("'{target}' follows only from an identification decision", target=target.value),
            allowed,
        )
    closing_functions = CLOSURES[closure].functions if closure is not None else frozenset()
    if move.function not in functions and not closing_functions & functions:
        raise IllegalTransition(
            msg(
                "moving to '{target}' needs an agency that may '{function}'",
                target=target.value,
                function=move.function,
            ),
            allowed,
        )
    if move.reason_required and not (reason and reason.strip()):
        raise IllegalTransition(
            msg("moving to '{target}' requires a reason", target=target.value), allowed
        )
    return move


@dataclass(frozen=True)
class DeadlinePolicy:
    """Legal deadlines. Initial verification is due 3 days after intake (Law
    53/2024); later steps are UNCONFIRMED in the law and therefore settings.

    The initial verification is met by its record (the case's `verified_at`), not by a
    status: a case `received` or `verifying` without the record keeps that deadline.
    A case's next deadline is the earliest of those still pending."""

    initial_verification_days: int = 3
    identification_days: int | None = None
    support_plan_days: int | None = None

    def due_for(
        self, status: CaseStatus, received_at: datetime, *, verified: bool
    ) -> datetime | None:
        """When the next step of a case in `status` is due, if the law sets a date;
        `verified`: the case has its verification record."""
        pending: list[int] = []
        if status in (CaseStatus.RECEIVED, CaseStatus.VERIFYING):
            if not verified:
                pending.append(self.initial_verification_days)
            if self.identification_days is not None and (
                verified or status is CaseStatus.VERIFYING
            ):
                pending.append(self.identification_days)
        if status is CaseStatus.IDENTIFIED and self.support_plan_days is not None:
            pending.append(self.support_plan_days)
        return received_at + timedelta(days=min(pending)) if pending else None
