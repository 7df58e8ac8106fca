"""Applying the state machine to a case: the only code that changes `cases.status`.

Every change checks `app.domain.workflow.check_transition` against the acting agency's
functions, records the reason (encrypted, see `case_text`), appends the timeline,
writes the audit event, moves the case's next legal deadline, bumps its version, and
queues `case.status_changed` for the lead agency (`events`).
Identification decisions call this with `by_decision=True`.

A closing move may carry a closure code (`app.domain.workflow.CLOSURES`), kept on the
case and the timeline: `handed_back` (trao trả) only for a victim whose recorded
nationality is foreign (not VN, nor XX, a stateless resident: as for entitlements),
else 422; the border guard (`hand_over`) or a mission (`repatriate`) may close with it
besides the move's own function.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.domain.workflow import (
    CaseStatus,
    ClosureCode,
    DeadlinePolicy,
    IllegalTransition,
    check_transition,
    closure_refusal,
)
from app.errors import Conflict, ValidationFailed
from app.i18n import text_of
from app.models import Case
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import case_text, events, timeline
from app.services.cases.deadlines import deadline_policy
from app.services.cases.support_checks import RESIDENT_NATIONALITIES


class TransitionRefused(Conflict):
    """409 listing the moves that are allowed from the case's current status."""

    slug = "illegal-transition"
    title_en, title_vi = "This status change is not allowed", "Không được chuyển trạng thái này"


async def apply_transition(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    target: CaseStatus,
    *,
    reason: str | None,
    functions: frozenset[str],
    by_decision: bool = False,
    deadlines: DeadlinePolicy | None = None,
    ref_type: str | None = None,
    ref_id: uuid.UUID | None = None,
    closure: ClosureCode | None = None,
) -> Case:
    """Move `case` (already loaded through the access statement, preferably locked)
    to `target`, or raise `TransitionRefused` (409) naming the allowed targets.
    `functions` are the acting agency's, from its grant on the case."""
    source = CaseStatus(case.status)
    if closure is not None:
        foreign = case.victim_nationality not in (None, *RESIDENT_NATIONALITIES)
        why = closure_refusal(closure, target, foreign_victim=foreign)
        if why is not None:
            raise ValidationFailed([{"field": "closure_code", "message": why}], detail=why)
    try:
        check_transition(
            source,
            target,
            agency_functions=functions,
            reason=reason,
            by_decision=by_decision,
            closure=closure,
        )
    except IllegalTransition as exc:
        raise TransitionRefused(text_of(exc), extra={"allowed": exc.allowed}) from exc
    now = datetime.now(UTC)
    entry_id = uuid.uuid4()
    note = None
    if reason and reason.strip():
        note = await case_text.seal_text(
            session,
            keys,
            victim_person_id=case.victim_person_id,
            table="case_timeline",
            column="note",
            row_id=entry_id,
            text=reason.strip(),
            actor=principal,
        )
    case.status = target.value
    policy = deadlines or deadline_policy()
    case.next_due_at = policy.due_for(
        target, case.received_at, verified=case.verified_at is not None
    )
    case.closed_at = now if target is CaseStatus.CLOSED else None
    case.closure_code = closure.value if closure is not None else None
    case.version += 1
    case.updated_at = now
    await timeline.append(
        session,
        case.id,
        "status_changed",
        principal=principal,
        from_status=source.value,
        to_status=target.value,
        ref_type=ref_type,
        ref_id=ref_id,
        note=note,
        entry_id=entry_id,
        detail=closure.value if closure is not None else None,
    )
    await audit.record(
        session,
        action="case.transition",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("status",),
        reason=":".join(x.value for x in (source, target, closure) if x is not None),
    )
    await events.announce_status_changed(session, case, source, target)
    return case
