"""A referral's lifecycle: pending -> accepted | rejected; accepted -> completed;
pending | accepted -> cancelled by the sender; pending -> expired when the due date
passes unanswered.

Rules:
- The receiving agency accepts, rejects (a reason is required) and completes (an
  outcome is required; `services_delivered` must be among the referred services);
  the sending agency cancels. The other party gets 403 (a denied audit row); a third
  agency gets 404 as for every referral it cannot see.
- A move from a state that does not allow it is 409, naming the current state; a
  pending referral past due is already expired, so it can no longer be answered.
- Accepting grants the receiver the shared fields and the services referred;
  completing or cancelling ends that access (`app.services.referrals.access`).
- Accepting a `transfer` moves ownership of the whole case to the receiving agency:
  the assignee is cleared, the case timeline and audit trail record `case.transfer`,
  and `case.transferred` goes to both agencies; the former owner keeps read-only
  access (`app.services.cases.access`). An accepted transfer cannot be cancelled.
- Every step locks the referral row, appends a case timeline entry
  (`referral_<status>`), writes an audit event (`referral.<action>`, flagged with the
  legal basis) and queues the webhook event for the other agency. Reasons and
  outcomes are encrypted under the victim's data key.
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
from app.models import Case, Referral
from app.models.referral import ReferralPurpose, ReferralStatus
from app.schemas.referrals import ReferralAction, ReferralPublic
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import timeline
from app.services.referrals import fields
from app.services.referrals.access import effective_status, load_visible
from app.services.referrals.read import referral_public
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
    "accept": Move(frozenset({S.PENDING}), S.ACCEPTED, True, "referral.accepted"),
    "reject": Move(frozenset({S.PENDING}), S.REJECTED, True, "referral.rejected"),
    "complete": Move(frozenset({S.ACCEPTED}), S.COMPLETED, True, "referral.completed"),
    "cancel": Move(frozenset({S.PENDING, S.ACCEPTED}), S.CANCELLED, False, None),
}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": message}], detail=message)


def _check_body(referral: Referral, action: str, body: ReferralAction) -> None:
    if action == "reject" and not body.reason:
        raise _invalid("reason", "is required to reject a referral")
    if action == "complete" and not body.outcome:
        raise _invalid("outcome", "is required to complete a referral")
    if action != "complete" and (body.outcome or body.services_delivered):
        raise _invalid("outcome", "outcome and services_delivered are given on complete only")
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
        detail="transfer",
    )
    await audit.record(
        session,
        action="case.transfer",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("owner_agency_id", "assigned_to"),
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
    action: str,
    body: ReferralAction,
    now: datetime,
) -> None:
    async def seal(column: str, text: str | None) -> bytes | None:
        return await fields.seal(
            session, keys, principal, case.victim_person_id, referral.id, column, text
        )

    referral.status = MOVES[action].target.value
    if action in ("accept", "reject"):
        referral.decided_at = now
        referral.decided_by = principal.actor_id
        referral.decided_by_type = principal.actor_type
    else:
        referral.closed_by = principal.actor_id
        referral.closed_by_type = principal.actor_type
    if action == "complete":
        referral.completed_at = now
        referral.outcome = await seal("outcome", body.outcome)
        referral.services_delivered = [s.value for s in body.services_delivered or ()]
    elif body.reason:
        referral.reason = await seal("reason", body.reason)
    if action == "cancel":
        referral.cancelled_at = now
    await session.flush()


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
        who = "receiving" if move.by_receiver else "sending"
        raise DeniedForbidden(f"Only the {who} agency may {action} this referral.")
    now = datetime.now(UTC)
    status = effective_status(referral, now)
    if status not in move.sources:
        raise Conflict(
            f"A referral that is {status.value} cannot become {move.target.value}.",
            extra={"referral_status": status.value},
        )
    transfer = referral.purpose == ReferralPurpose.TRANSFER.value
    if action == "cancel" and transfer and status == S.ACCEPTED:
        raise Conflict(
            "An accepted transfer cannot be cancelled: the case belongs to the receiving "
            "agency now.",
            extra={"referral_status": status.value},
        )
    body = body or ReferralAction()
    _check_body(referral, action, body)
    case = await _locked_case(session, referral.case_id)
    if action == "accept" and transfer and case.owner_agency_id != referral.from_agency_id:
        raise Conflict("The case has changed owner since this transfer was sent.")
    await _apply(session, keys, principal, referral, case, action, body, now)
    await timeline.append(
        session,
        case.id,
        f"referral_{referral.status}",
        principal=principal,
        ref_type="referral",
        ref_id=referral.id,
        detail=referral.purpose,
    )
    await audit.record(
        session,
        action=audit_action,
        resource_type="referral",
        resource_id=referral.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("status",),
        reason=fields.basis_reason(referral),
    )
    if move.event:
        await emit(
            session,
            event_type=move.event,
            agency_ids=[referral.from_agency_id],
            data={"referral_id": str(referral.id), "case_id": str(case.id)},
        )
    if action == "accept" and transfer:
        await _transfer(session, principal, referral, case, now)
    public, _ = await referral_public(session, keys, principal, referral, case, now)
    return public


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
