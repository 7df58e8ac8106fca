"""Reading referrals: one referral with the shared fields, the inbox and outbox, and
a case's accounting of disclosures.

Rules:
- Every query starts from `visible_referrals(principal)` (sender or receiver agency);
  anything else is 404 with a denied audit row for an existing referral.
- One referral shows its metadata and, while access is active, exactly its shared
  fields, identity values masked unless revealed (`?reveal=identity` with
  `X-Purpose-Of-Use` and `cases:reveal_identity`, on either side); an integration
  client never gets an identity value (those fields come as null). The case row is
  loaded only to take those fields from it, never returned. Each read is audited
  (`referral.read`, or `referral.reveal` with the purpose) with the fields shown; a
  read by the receiving agency is a disclosure and carries the purpose of use and the
  legal basis (`legal_basis:<basis>`), so the trail answers who saw which fields, when
  and why.
- Once the receiver's access has ended (rejected, completed, cancelled, expired) or
  is suspended (consent no longer in force), the receiver sees the status and codes
  only: no shared value, no note, reason or outcome note.
- Lists carry metadata only, with `overdue_count`: open referrals (pending,
  waitlisted or accepted) past their due date in the box asked. `action_needed`:
  incoming, those waiting for the receiver (pending, waitlisted, accepted and not
  completed); outgoing, those open past their due date (to chase or cancel).
- The accounting of disclosures of a case lists every referral of it, to whom,
  which fields, when, why and on which legal basis (owner's supervisors).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.models import Case, Referral
from app.models.referral import ReferralStatus
from app.schemas.referrals import (
    DisclosurePublic,
    ReferralAccess,
    ReferralDirection,
    ReferralPublic,
    ReferralSummary,
)
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import restriction
from app.services.cases import shared
from app.services.cases.access import get_readable_case
from app.services.cases.read import refuse_reveal, reveal_purpose
from app.services.pagination import PageParams, page_of, paginate
from app.services.referrals import fields
from app.services.referrals.access import (
    OPEN,
    access_state,
    effective_status,
    is_overdue,
    load_visible,
    visible_referrals,
)

_TEXTS = ("note", "emergency_reason", "reason")


def referral_summary(referral: Referral, now: datetime) -> ReferralSummary:
    return ReferralSummary(
        id=referral.id,
        case_id=referral.case_id,
        from_agency_id=referral.from_agency_id,
        to_agency_id=referral.to_agency_id,
        purpose=referral.purpose,
        services=referral.services,
        shared_fields=referral.shared_fields,
        legal_basis=referral.legal_basis,
        status=effective_status(referral, now),
        overdue=is_overdue(referral, now),
        due_at=referral.due_at,
        expected_at=referral.expected_at,
        reason_code=referral.reason_code,
        outcome=referral.outcome_code,
        created_at=referral.created_at,
        decided_at=referral.decided_at,
        completed_at=referral.completed_at,
        cancelled_at=referral.cancelled_at,
    )


def _public(
    referral: Referral,
    now: datetime,
    access: ReferralAccess,
    *,
    texts: dict[str, str | None] | None = None,
    shared: dict[str, Any] | None = None,
    revealed: bool = False,
) -> ReferralPublic:
    texts = texts or {}
    return ReferralPublic(
        **referral_summary(referral, now).model_dump(),
        consent_id=referral.consent_id,
        services_delivered=referral.services_delivered,
        **{column: texts.get(column) for column in _TEXTS},
        outcome_note=texts.get("outcome"),
        access=access,
        revealed=revealed,
        shared=shared,
    )


def action_public(referral: Referral, now: datetime) -> ReferralPublic:
    """The answer to an action: metadata and codes, no shared value and no free text;
    GET the referral for them."""
    return _public(referral, now, access_state(referral, now))


async def created_public(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    referral: Referral,
    case: Case,
    now: datetime,
    texts: dict[str, str | None],
) -> ReferralPublic:
    """The answer to a create: what was written (`texts` as sent) and the shared
    fields as the sender's GET shows them (masked)."""
    access = access_state(referral, now)
    values = None
    if access == ReferralAccess.ACTIVE:
        shown = tuple(shared.seen_by(principal, referral.shared_fields))
        values = await shared.shared_values(
            session, keys, principal, shared.case_mapping(case), shown, reveal=False
        )
        values.update(dict.fromkeys(set(referral.shared_fields) - set(shown)))
    return _public(referral, now, access, texts=texts, shared=values)


async def _case_of(session: AsyncSession, referral: Referral) -> Case:
    # Reached through the referral, not the case access rule: only the shared fields
    # of this row are ever shown.
    case = await session.get(Case, referral.case_id)
    assert case is not None  # a foreign key
    return case


async def get_referral(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    reveal: str | None = None,
    purpose: str | None = None,
) -> ReferralPublic:
    """One referral (module rules): the shared fields while access is active, masked
    unless revealed with a purpose; the receiver sees status and codes only once its
    access has ended or is suspended; integration clients get no identity value."""
    code = reveal_purpose(principal, reveal, purpose)
    action = "referral.reveal" if code else "referral.read"
    referral = await load_visible(session, principal, referral_id, action=action)
    case = await _case_of(session, referral)
    if code is not None and not principal.can(Permission.CASES_REVEAL_IDENTITY):
        raise await refuse_reveal(
            session,
            principal,
            action=action,
            resource_type="referral",
            resource_id=referral.id,
            person_id=case.victim_person_id,
            purpose=code,
        )
    if code is not None:
        await restriction.check_reveal(
            session,
            principal,
            [case.victim_person_id],
            action=action,
            resource_type="referral",
            resource_id=referral.id,
            purpose=code,
        )
    now = datetime.now(UTC)
    access = access_state(referral, now)
    receiver = principal.agency_id == referral.to_agency_id
    if receiver and access != ReferralAccess.ACTIVE:
        await audit.record(
            session,
            action="referral.read",
            resource_type="referral",
            resource_id=referral.id,
            principal=principal,
        )
        return _public(referral, now, access)
    shown: tuple[str, ...] = ()
    shared_values = None
    if access == ReferralAccess.ACTIVE:
        shown = tuple(shared.seen_by(principal, referral.shared_fields))
        shared_values = await shared.shared_values(
            session, keys, principal, shared.case_mapping(case), shown, reveal=code is not None
        )
        shared_values.update(dict.fromkeys(set(referral.shared_fields) - set(shown)))
    victim = case.victim_person_id
    texts = {
        column: await fields.open_(session, keys, principal, victim, referral, column)
        for column in (*_TEXTS, "outcome")
    }
    disclosure = bool(shown) and receiver
    await audit.record(
        session,
        action=action,
        resource_type="referral",
        resource_id=referral.id,
        principal=principal,
        person_id=victim if shown else None,
        fields=shown,
        purpose=code or (fields.audit_purpose(referral) if disclosure else None),
        reason=fields.basis_reason(referral) if disclosure else None,
    )
    return _public(
        referral, now, access, texts=texts, shared=shared_values, revealed=code is not None
    )


def _directed(principal: Principal, direction: ReferralDirection | None) -> Select[Any]:
    statement = visible_referrals(principal)
    if direction == ReferralDirection.INCOMING:
        statement = statement.where(col(Referral.to_agency_id) == principal.agency_id)
    elif direction == ReferralDirection.OUTGOING:
        statement = statement.where(col(Referral.from_agency_id) == principal.agency_id)
    return statement


def _with_status(statement: Select[Any], status: ReferralStatus, now: datetime) -> Select[Any]:
    """Filter on the effective status (a pending referral past due is expired)."""
    pending = col(Referral.status) == ReferralStatus.PENDING.value
    if status == ReferralStatus.PENDING:
        return statement.where(pending, col(Referral.due_at) > now)
    if status == ReferralStatus.EXPIRED:
        return statement.where(
            or_(
                col(Referral.status) == ReferralStatus.EXPIRED.value,
                and_(pending, col(Referral.due_at) <= now),
            )
        )
    return statement.where(col(Referral.status) == status.value)


async def list_referrals(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    direction: ReferralDirection | None = None,
    status: ReferralStatus | None = None,
    action_needed: bool = False,
) -> tuple[list[ReferralSummary], str | None, int]:
    """The agency's inbox, outbox or both, newest first, with the overdue count."""
    now = datetime.now(UTC)
    base = _directed(principal, direction)
    statement = _with_status(base, status, now) if status else base
    if action_needed:
        statement = statement.where(_action_needed(principal, direction, now))
    rows = list(
        (
            await session.execute(
                paginate(statement, params, col(Referral.created_at), col(Referral.id))
            )
        ).scalars()
    )
    kept, cursor = page_of(rows, params, lambda r: (r.created_at, r.id))
    overdue = base.where(col(Referral.status).in_(OPEN), col(Referral.due_at) <= now)
    overdue_count = (
        await session.execute(select(func.count()).select_from(overdue.subquery()))
    ).scalar_one()
    await audit.record(
        session, action="referral.list", resource_type="referral", principal=principal
    )
    return [referral_summary(r, now) for r in kept], cursor, int(overdue_count)


def _action_needed(principal: Principal, direction: ReferralDirection | None, now: datetime) -> Any:
    """Referrals waiting for the caller's agency (module rules)."""
    incoming = and_(
        col(Referral.to_agency_id) == principal.agency_id,
        or_(
            and_(col(Referral.status) == ReferralStatus.PENDING.value, col(Referral.due_at) > now),
            col(Referral.status) == ReferralStatus.WAITLISTED.value,
            col(Referral.status) == ReferralStatus.ACCEPTED.value,
        ),
    )
    outgoing = and_(
        col(Referral.from_agency_id) == principal.agency_id,
        col(Referral.status).in_(OPEN),
        or_(
            col(Referral.due_at) <= now,
            and_(col(Referral.expected_at).is_not(None), col(Referral.expected_at) <= now),
        ),
    )
    if direction == ReferralDirection.INCOMING:
        return incoming
    if direction == ReferralDirection.OUTGOING:
        return outgoing
    return or_(incoming, outgoing)


async def list_disclosures(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, params: PageParams
) -> tuple[list[DisclosurePublic], str | None]:
    """The case's disclosures to other agencies, newest first; audited."""
    action = "disclosure.list"
    case = await get_readable_case(session, principal, case_id, action=action)
    statement = paginate(
        select(Referral).where(col(Referral.case_id) == case.id),
        params,
        col(Referral.created_at),
        col(Referral.id),
    )
    rows = list((await session.execute(statement)).scalars())
    kept, cursor = page_of(rows, params, lambda r: (r.created_at, r.id))
    await audit.record(
        session,
        action=action,
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
    )
    now = datetime.now(UTC)
    items = [
        DisclosurePublic(
            referral_id=r.id,
            to_agency_id=r.to_agency_id,
            purpose=r.purpose,
            legal_basis=r.legal_basis,
            shared_fields=r.shared_fields,
            disclosed_at=r.created_at,
            disclosed_by=r.created_by,
            status=effective_status(r, now),
        )
        for r in kept
    ]
    return items, cursor
