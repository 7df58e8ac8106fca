"""A referral's lifecycle, the closed loop: pending -> accepted | waitlisted |
rejected; waitlisted -> accepted | rejected; accepted -> completed; pending |
waitlisted | accepted -> cancelled by the sender; pending -> expired when the due date
passes unanswered.

Rules:
- The receiving agency answers: accept {note}, waitlist {expected_at (future),
  reason}, reject {reason_code, reason (required for `other`)}, complete {outcome,
  note, services_delivered (among the referred services)}; the sending agency
  cancels. The other party gets 403 (a denied audit row); a third agency gets 404 as
  for every referral it cannot see.
- A move from a state that does not allow it is 409, naming the current state; a
  pending referral past due is already expired, so it can no longer be answered.
- Accept and complete re-check the legal basis: a referral resting on a consent that
  is no longer in force is 409 `legal-basis-lapsed` (the sender may cancel it).
- Accepting makes the receiver a participant of the case with the referral's purpose
  as its role (`app.services.cases.access`), until it completes, the sender cancels,
  or the consent is withdrawn; `participant.added` / `participant.removed` go to both
  agencies.
- Accepting a `transfer` moves the lead of the whole case to the receiving agency:
  the assignee is cleared, the case's current province becomes the receiver's, the
  case timeline and audit trail record `case.transfer`, and `case.transferred` goes
  to both agencies; the former lead keeps read-only access. An accepted transfer
  cannot be cancelled.
- Every step locks the referral row, appends a timeline entry (`referral_<status>`)
  to the lead's case, writes an audit event (`referral.<action>`, flagged with the
  legal basis, naming the fields written) and queues the webhook event for the other
  agency. Notes and reasons are encrypted under the victim's data key.
- The answer to an action carries the referral's metadata and codes only: no shared
  value and no free text (GET the referral for them; that read is the audited
  disclosure).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.errors import Conflict, DeniedForbidden, ValidationFailed
from app.i18n import msg
from app.models import Agency, Case, Referral
from app.models.referral import ReferralPurpose, ReferralStatus, RejectionReason
from app.schemas.common import StrictInput
from app.schemas.referrals import (
    ReferralAccept,
    ReferralAccess,
    ReferralAction,
    ReferralCancel,
    ReferralComplete,
    ReferralPublic,
    ReferralReject,
    ReferralWaitlist,
)
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import timeline
from app.services.referrals import fields
from app.services.referrals.access import access_state, effective_status, load_visible
from app.services.referrals.read import action_public
from app.services.webhooks.outbox import emit

S = ReferralStatus


@dataclass(frozen=True)
class Move:
    sources: frozenset[ReferralStatus]
    target: ReferralStatus
    by_receiver: bool
    # The webhook event for the other party, if the contract has one.
    event: str | None


MOVES: dict[str, Move] = {
    "accept": Move(frozenset({S.PENDING, S.WAITLISTED}), S.ACCEPTED, True, "referral.accepted"),
    "waitlist": Move(frozenset({S.PENDING}), S.WAITLISTED, True, "referral.waitlisted"),
    "reject": Move(frozenset({S.PENDING, S.WAITLISTED}), S.REJECTED, True, "referral.rejected"),
    "complete": Move(frozenset({S.ACCEPTED}), S.COMPLETED, True, "referral.completed"),
    "cancel": Move(frozenset({S.PENDING, S.WAITLISTED, S.ACCEPTED}), S.CANCELLED, False, None),
}
# The body each action takes.
BODIES: dict[str, type[StrictInput]] = {
    "accept": ReferralAccept,
    "waitlist": ReferralWaitlist,
    "reject": ReferralReject,
    "complete": ReferralComplete,
    "cancel": ReferralCancel,
}


class LegalBasisLapsed(Conflict):
    """409: the consent the referral rests on is no longer in force."""

    slug = "legal-basis-lapsed"
    title_en, title_vi = (
        "The legal basis of this referral no longer holds",
        "Căn cứ pháp lý của việc chuyển giao không còn hiệu lực",
    )


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": message}], detail=message)


def _check_body(referral: Referral, body: ReferralAction, now: datetime) -> None:
    other = isinstance(body, ReferralReject) and body.reason_code == RejectionReason.OTHER
    if other and not body.reason:  # type: ignore[union-attr]
        raise _invalid("reason", "is required when reason_code is 'other'")
    if isinstance(body, ReferralWaitlist) and body.expected_at <= now:
        raise _invalid("expected_at", "must be in the future")
    if isinstance(body, ReferralComplete):
        delivered = {s.value for s in body.services_delivered or ()}
        if not delivered <= set(referral.services):
            raise _invalid("services_delivered", "must be among the services referred")


async def _locked_case(session: AsyncSession, case_id: uuid.UUID) -> Case:
    statement = (
        select(Case)
        .where(col(Case.id) == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    case: Case = (await session.execute(statement)).scalar_one()
    return case


async def _transfer(
    session: AsyncSession, principal: Principal, referral: Referral, case: Case, now: datetime
) -> None:
    """Hand the whole case to the receiving agency (module rules)."""
    former = case.owner_agency_id
    receiver = await session.get(Agency, referral.to_agency_id)
    assert receiver is not None  # a foreign key
    moved_from = case.current_province_code or case.province_code
    if receiver.province_code is not None:
        case.current_province_code = (
            None if receiver.province_code == case.province_code else receiver.province_code
        )
    moved_to = case.current_province_code or case.province_code
    case.owner_agency_id = referral.to_agency_id
    case.assigned_to = None
    case.version += 1
    case.updated_at = now
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "case_transferred",
        principal=principal,
        ref_type="referral",
        ref_id=referral.id,
        detail=f"transfer:{moved_from}:{moved_to}",
    )
    await audit.record(
        session,
        action="case.transfer",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("owner_agency_id", "assigned_to", "current_province_code"),
        reason=fields.basis_reason(referral),
    )
    await emit(
        session,
        event_type="case.transferred",
        agency_ids=[former, referral.to_agency_id],
        data={"referral_id": str(referral.id), "case_id": str(case.id)},
    )


async def _apply(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    referral: Referral,
    case: Case,
    body: ReferralAction,
    now: datetime,
) -> tuple[str, ...]:
    """Write the answer on the referral; returns the names of the fields written."""

    async def seal(column: str, text: str | None) -> bytes | None:
        return await fields.seal(
            session, keys, principal, case.victim_person_id, referral.id, column, text
        )

    written = ["status"]
    if isinstance(body, (ReferralAccept, ReferralReject)):
        referral.decided_at = now
        referral.decided_by = principal.actor_id
        referral.decided_by_type = principal.actor_type
    if isinstance(body, (ReferralComplete, ReferralCancel)):
        referral.closed_by = principal.actor_id
        referral.closed_by_type = principal.actor_type
    text: str | None = None
    if isinstance(body, ReferralAccept):
        text = body.note
    elif isinstance(body, ReferralWaitlist):
        referral.expected_at = body.expected_at
        text = body.reason
        written.append("expected_at")
    elif isinstance(body, ReferralReject):
        referral.reason_code = body.reason_code.value
        text = body.reason
        written.append("reason_code")
    elif isinstance(body, ReferralComplete):
        referral.completed_at = now
        referral.outcome_code = body.outcome.value
        referral.outcome = await seal("outcome", body.note)
        referral.services_delivered = [s.value for s in body.services_delivered or ()]
        written += ["outcome", "services_delivered"] + (["outcome_note"] if body.note else [])
    else:
        referral.cancelled_at = now
        text = body.reason
    if text:
        referral.reason = await seal("reason", text)
        written.append("reason")
    await session.flush()
    return tuple(written)


async def act(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    referral_id: uuid.UUID,
    action: str,
    body: ReferralAction | None,
) -> ReferralPublic:
    """Move a referral one step (`MOVES`); the rules are in the module docstring."""
    move = MOVES[action]
    audit_action = f"referral.{action}"
    referral = await load_visible(
        session, principal, referral_id, action=audit_action, for_update=True
    )
    party = referral.to_agency_id if move.by_receiver else referral.from_agency_id
    if principal.agency_id != party:
        await audit.record(
            session,
            action=audit_action,
            resource_type="referral",
            resource_id=referral.id,
            principal=principal,
            outcome="denied",
            reason="not_receiver" if move.by_receiver else "not_sender",
        )
        raise DeniedForbidden(
            msg("Only the receiving agency may {action} this referral.", action=action)
            if move.by_receiver
            else msg("Only the sending agency may {action} this referral.", action=action)
        )
    now = datetime.now(UTC)
    status = effective_status(referral, now)
    if status not in move.sources:
        raise Conflict(
            msg(
                "A referral that is {status} cannot become {target}.",
                status=status.value,
                target=move.target.value,
            ),
            extra={"referral_status": status.value},
        )
    transfer = referral.purpose == ReferralPurpose.TRANSFER.value
    if action == "cancel" and transfer and status == S.ACCEPTED:
        raise Conflict(
            "An accepted transfer cannot be cancelled: the case belongs to the receiving "
            "agency now.",
            extra={"referral_status": status.value},
        )
    if body is None:
        body = ReferralAccept() if action == "accept" else ReferralCancel()
    if not isinstance(body, BODIES[action]):
        raise _invalid("body", msg("is not the body of '{action}'", action=action))
    _check_body(referral, body, now)
    if action in ("accept", "complete") and access_state(referral, now) != ReferralAccess.ACTIVE:
        raise LegalBasisLapsed(
            "The consent this referral rests on is no longer in force; the sending agency "
            "may cancel it and refer again on a new basis."
        )
    case = await _locked_case(session, referral.case_id)
    if action == "accept" and transfer and case.owner_agency_id != referral.from_agency_id:
        raise Conflict("The case has changed owner since this transfer was sent.")
    was_participant = status == S.ACCEPTED and not transfer
    referral.status = move.target.value
    written = await _apply(session, keys, principal, referral, case, body, now)
    detail = referral.purpose
    if referral.reason_code or referral.outcome_code:
        detail = f"{referral.purpose}:{referral.reason_code or referral.outcome_code}"
    await timeline.append(
        session,
        case.id,
        f"referral_{referral.status}",
        principal=principal,
        ref_type="referral",
        ref_id=referral.id,
        detail=detail,
    )
    await audit.record(
        session,
        action=audit_action,
        resource_type="referral",
        resource_id=referral.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=written,
        reason=fields.basis_reason(referral),
    )
    data = {"referral_id": str(referral.id), "case_id": str(case.id)}
    if move.event:
        await emit(session, event_type=move.event, agency_ids=[referral.from_agency_id], data=data)
    both = [referral.from_agency_id, referral.to_agency_id]
    membership = {**data, "agency_id": str(referral.to_agency_id), "role": referral.purpose}
    if action == "accept" and not transfer:
        await emit(session, event_type="participant.added", agency_ids=both, data=membership)
    if was_participant and action in ("complete", "cancel"):
        await emit(session, event_type="participant.removed", agency_ids=both, data=membership)
    if action == "accept" and transfer:
        await _transfer(session, principal, referral, case, now)
    return action_public(referral, now)


async def expire_due(session: AsyncSession, now: datetime, *, batch_size: int = 500) -> int:
    """Flip pending referrals whose due date has passed to `expired`, with a timeline
    entry and an audit event by the system; returns how many. Rows another
    transaction holds are skipped (the next round takes them). The caller commits;
    the worker calls this periodically."""
    statement = (
        select(Referral)
        .where(col(Referral.status) == S.PENDING.value, col(Referral.due_at) <= now)
        .order_by(col(Referral.due_at))
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(statement)).scalars())
    for referral in rows:
        referral.status = S.EXPIRED.value
        referral.expired_at = now
        await session.flush()
        await timeline.append(
            session,
            referral.case_id,
            "referral_expired",
            principal=None,
            ref_type="referral",
            ref_id=referral.id,
            detail=referral.purpose,
        )
        await audit.record(
            session,
            action="referral.expire",
            resource_type="referral",
            resource_id=referral.id,
            fields=("status",),
            reason="due_date_passed",
        )
    return len(rows)
