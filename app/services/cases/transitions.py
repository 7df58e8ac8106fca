"""Applying the state machine to a case: the only code that changes `cases.status`.

Every change checks `app.domain.workflow.check_transition` against the acting agency's
functions, records the reason (encrypted, see `case_text`), appends the timeline,
writes the audit event, moves the case's next legal deadline, and bumps its version.
Identification decisions call this with `by_decision=True`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.domain.workflow import CaseStatus, DeadlinePolicy, IllegalTransition, check_transition
from app.errors import Conflict
from app.models import Case
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import case_text, timeline
from app.services.cases.deadlines import deadline_policy


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
) -> Case:
    """Move `case` (already loaded through the access statement, preferably locked)
    to `target`, or raise `TransitionRefused` (409) naming the allowed targets.
    `functions` are the acting agency's, from its grant on the case."""
    source = CaseStatus(case.status)
    try:
        check_transition(
            source,
            target,
            agency_functions=functions,
            reason=reason,
            by_decision=by_decision,
        )
    except IllegalTransition as exc:
        raise TransitionRefused(str(exc), extra={"allowed": exc.allowed}) from exc
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
    )
    await audit.record(
        session,
        action="case.transition",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("status",),
        reason=f"{source.value}:{target.value}",
    )
    return case
