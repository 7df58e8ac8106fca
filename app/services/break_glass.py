"""Break-glass: an emergency read of a case outside the caller's normal access, for
a limited time, announced to the lead and reviewed by an auditor.

Rules:
- Who: a user holding `cases:break_glass` (case workers, supervisors, hotline
  operators) whose agency's kind has the `emergency_access` function (police and
  the hotline, as data in `agency_kinds`); anyone else holding the permission gets
  403 (`agency-function-required`) for every case it does not read, whether or not
  it exists. A role without the permission gets 404, as on every case route.
- A case id that does not exist is 404; one that exists is not: reaching cases
  outside one's access is the point, so a holder of the permission learns that a
  case id exists. That is accepted: the ids are random UUIDs, and every attempt is
  audited and reviewed.
- A caller who already reads the case (lead, former lead, participant, or an open
  break-glass of their own) gets 409: there is no need. Audited as denied.
- The grant lasts `VCM_BREAK_GLASS_MINUTES` (60 by default) and allows the case read
  only (`GET /cases/{id}`: masked, or revealed with `cases:reveal_identity` and a
  purpose like any read); the access rule (`app.services.cases.access`) checks the
  expiry in the read's own statement. Every such read is audited with the reason
  `break_glass:<id>`.
- The reason is sealed under the victim's data key (it may name people); the answer
  to the create shows it as written. The break-glass is audited (`case.break_glass`, on
  the case, reason `break_glass:<id>`), put on the case's timeline, and announced by
  the webhook event `case.break_glass` to the lead agency (ids and codes only).
- Review: auditors (`break_glass:review`), over all agencies as for the audit trail,
  list them (`reviewed=false`: the queue) with the reasons, and give one verdict
  each (`justified`, `unjustified`; a second is 409). An `unjustified` verdict on a
  grant still open ends it at once. Listing and reviewing are audited.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.break_glass import EMERGENCY_ACCESS, Verdict
from app.errors import Conflict, NotFound
from app.i18n import msg
from app.models import AgencyKind, BreakGlass, Case
from app.schemas.break_glass import BreakGlassCreate, BreakGlassPublic, BreakGlassReview
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import case_text, timeline
from app.services.cases.access import AgencyFunctionRequired, case_and_grant
from app.services.pagination import PageParams, page_of, paginate
from app.services.webhooks.outbox import emit

TABLE = "break_glass"
RESOURCE = "break_glass"
ACTION = "case.break_glass"


class BreakGlassNotNeeded(Conflict):
    """409: the caller already reads the case. The refusal commits its audit row."""

    slug = "break-glass-not-needed"
    title_en, title_vi = (
        "You already have access to this case",
        "Bạn đã có quyền truy cập vụ việc này",
    )
    keep_work = True


class BreakGlassReviewed(Conflict):
    slug = "break-glass-reviewed"
    title_en, title_vi = (
        "This break-glass access has already been reviewed",
        "Truy cập khẩn cấp này đã được xem xét",
    )


def _reason_code(row_id: uuid.UUID) -> str:
    return f"break_glass:{row_id}"


async def _functions(session: AsyncSession, kind: str) -> frozenset[str]:
    found = await session.execute(
        select(col(AgencyKind.functions)).where(col(AgencyKind.code) == kind)
    )
    return frozenset(found.scalar_one_or_none() or ())


async def _victim(session: AsyncSession, case_id: uuid.UUID) -> uuid.UUID:
    found = await session.execute(select(col(Case.victim_person_id)).where(col(Case.id) == case_id))
    victim: uuid.UUID = found.scalar_one()
    return victim


async def _seal(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    victim_person_id: uuid.UUID,
    row_id: uuid.UUID,
    column: str,
    text: str,
) -> bytes:
    return await case_text.seal_text(
        session,
        keys,
        victim_person_id=victim_person_id,
        table=TABLE,
        column=column,
        row_id=row_id,
        text=text,
        actor=principal,
    )


async def _open(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    victim_person_id: uuid.UUID,
    row: BreakGlass,
    column: str,
) -> str | None:
    return await case_text.open_text(
        session,
        keys,
        victim_person_id=victim_person_id,
        table=TABLE,
        column=column,
        row_id=row.id,
        ciphertext=getattr(row, column),
        actor=principal,
    )


def _public(row: BreakGlass, reason: str | None, note: str | None) -> BreakGlassPublic:
    return BreakGlassPublic(
        id=row.id,
        case_id=row.case_id,
        user_id=row.user_id,
        agency_id=row.agency_id,
        purpose=row.purpose,
        reason=reason,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        reviewed_at=row.reviewed_at,
        reviewed_by=row.reviewed_by,
        verdict=Verdict(row.verdict) if row.verdict else None,
        note=note,
    )


async def _denied(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, reason: str
) -> None:
    await audit.record(
        session,
        action=ACTION,
        resource_type="case",
        resource_id=case_id,
        principal=principal,
        outcome="denied",
        reason=reason,
    )


async def break_glass(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    body: BreakGlassCreate,
    *,
    minutes: int,
) -> BreakGlassPublic:
    """Open an emergency read of a case outside the caller's access (module rules)."""
    found = await case_and_grant(session, principal, case_id)
    grant = found[1] if found else None
    if grant is not None and grant.refusal("case.read") is None:
        await _denied(session, principal, case_id, "already_readable")
        raise BreakGlassNotNeeded("You already read this case; no break-glass is needed.")
    # The same answer whether or not the case exists, for a caller who may not use it.
    if EMERGENCY_ACCESS not in await _functions(session, principal.agency_kind):
        await _denied(session, principal, case_id, f"missing_function:{EMERGENCY_ACCESS}")
        raise AgencyFunctionRequired(
            msg(
                "Breaking the glass needs an agency with the '{function}' function.",
                function=EMERGENCY_ACCESS,
            )
        )
    if found is None:
        raise NotFound()
    case = found[0]
    now = datetime.now(UTC)
    row_id = uuid.uuid4()
    row = BreakGlass(
        id=row_id,
        case_id=case.id,
        user_id=principal.actor_id,
        agency_id=principal.agency_id,
        purpose=body.purpose,
        reason=await _seal(
            session, keys, principal, case.victim_person_id, row_id, "reason", body.reason
        ),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(row)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "break_glass",
        principal=principal,
        ref_type=RESOURCE,
        ref_id=row.id,
        detail=body.purpose,
    )
    await emit(
        session,
        event_type=ACTION,
        agency_ids=[case.owner_agency_id],
        data={
            "case_id": str(case.id),
            "break_glass_id": str(row.id),
            "agency_id": str(principal.agency_id),
            "user_id": str(principal.actor_id),
            "purpose": body.purpose,
            "expires_at": row.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    await audit.record(
        session,
        action=ACTION,
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("reason",),
        purpose=body.purpose,
        reason=_reason_code(row.id),
    )
    return _public(row, body.reason, None)


def _queue(reviewed: bool | None) -> Select[Any]:
    statement: Select[Any] = (
        select(BreakGlass)
        .add_columns(col(Case.victim_person_id))
        .join(Case, col(Case.id) == col(BreakGlass.case_id))
    )
    if reviewed is not None:
        reviewed_at = col(BreakGlass.reviewed_at)
        statement = statement.where(reviewed_at.is_not(None) if reviewed else reviewed_at.is_(None))
    return statement


async def list_break_glass(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    params: PageParams,
    *,
    reviewed: bool | None,
) -> tuple[list[BreakGlassPublic], str | None]:
    """Break-glass grants, newest first, with their reasons (auditors; module rules)."""
    statement = paginate(_queue(reviewed), params, col(BreakGlass.created_at), col(BreakGlass.id))
    rows = list((await session.execute(statement)).all())
    kept, cursor = page_of(rows, params, lambda r: (r[0].created_at, r[0].id))
    items = [
        _public(
            row,
            await _open(session, keys, principal, victim, row, "reason"),
            await _open(session, keys, principal, victim, row, "review_note"),
        )
        for row, victim in kept
    ]
    await audit.record(
        session,
        action="break_glass.list",
        resource_type=RESOURCE,
        principal=principal,
        fields=("reason", "review_note"),
        reason=None if reviewed is None else f"reviewed:{str(reviewed).lower()}",
    )
    return items, cursor


async def review(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    break_glass_id: uuid.UUID,
    body: BreakGlassReview,
) -> BreakGlassPublic:
    """Give the one verdict on a break-glass (module rules)."""
    row = (
        await session.execute(
            select(BreakGlass).where(col(BreakGlass.id) == break_glass_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound()
    if row.verdict is not None:
        raise BreakGlassReviewed("A verdict was already given on this break-glass access.")
    victim = await _victim(session, row.case_id)
    now = datetime.now(UTC)
    row.verdict = body.verdict.value
    row.reviewed_at = now
    row.reviewed_by = principal.actor_id
    if body.note:
        row.review_note = await _seal(
            session, keys, principal, victim, row.id, "review_note", body.note
        )
    if body.verdict is Verdict.UNJUSTIFIED and row.revoked_at is None and row.expires_at > now:
        row.revoked_at = now
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        action="break_glass.review",
        resource_type=RESOURCE,
        resource_id=row.id,
        principal=principal,
        person_id=victim,
        fields=("verdict", "review_note") if body.note else ("verdict",),
        reason=f"verdict:{row.verdict}",
    )
    return _public(
        row,
        await _open(session, keys, principal, victim, row, "reason"),
        body.note,
    )
