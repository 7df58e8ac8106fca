"""Protection measures (biện pháp bảo vệ) for the victim, an accompanying minor, a
relative, a person who helps or a witness (DOMAIN.md, "Protection").

Rules:
- The responsible agency must exist and protect (agency function `protect`: a bank
  or a hospital guards nobody), else 422; a named protected person must be a person
  of this case in the role given (`victim`, `minor`, `relative`, `helper`, `witness`;
  persons are added with `app.services.cases.persons`).
- Recording or changing a measure needs the `protect` function, the lead's too
  (`app.domain.participation.ACTION_FUNCTIONS`): else 403.
- `end` is not before `start`.
- The person may refuse a measure in writing: status `refused` needs a
  `refusal_reason` (sealed under the victim's data key); a reason is refused on any
  other status.
- The answer to a create shows the refusal reason as written; reads and PATCH
  answers return it.
- Changes name the version they were based on (If-Match: 428 without, 412 stale).
- Every creation and change appends a timeline entry and an audit event.
- A participating agency in a `protection` role (`app.services.cases.access`, agency
  function `protect`) records measures it is responsible for, and sees and changes
  only those; the others are 404 to it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.agency_functions import MEASURE_RESPONSIBLE
from app.errors import NotFound, ValidationFailed
from app.etag import required_version, stale
from app.models import Agency, Case, CasePerson, ProtectionMeasure
from app.models.case_records import ProtectedPerson, ProtectionMeasureKind, ProtectionStatus
from app.schemas.case_records import (
    ProtectionMeasureCreate,
    ProtectionMeasurePublic,
    ProtectionMeasureUpdate,
)
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.agency_functions import require_named
from app.services.cases import case_text, timeline
from app.services.cases.access import GrantedCase, get_granted_case
from app.services.pagination import PageParams, page_of, paginate

TABLE = "protection_measures"


async def _public(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    row: ProtectionMeasure,
    *,
    written: dict[str, str | None] | None = None,
) -> ProtectionMeasurePublic:
    """The measure, the refusal reason opened (or, answering the create, as `written`)."""
    reason = (
        written["refusal_reason"]
        if written is not None
        else await case_text.open_text(
            session,
            keys,
            victim_person_id=case.victim_person_id,
            table=TABLE,
            column="refusal_reason",
            row_id=row.id,
            ciphertext=row.refusal_reason,
            actor=principal,
        )
    )
    return ProtectionMeasurePublic(
        id=row.id,
        case_id=row.case_id,
        measure=ProtectionMeasureKind(row.measure),
        protected_person=ProtectedPerson(row.protected_person),
        protected_person_id=row.protected_person_id,
        start=row.start_date,
        end=row.end_date,
        status=ProtectionStatus(row.status),
        refusal_reason=reason,
        responsible_agency_id=row.responsible_agency_id,
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _check_agency(session: AsyncSession, agency_id: uuid.UUID) -> None:
    if await session.get(Agency, agency_id) is None:
        raise ValidationFailed([{"field": "responsible_agency_id", "message": "no such agency"}])
    await require_named(session, agency_id, MEASURE_RESPONSIBLE, field="responsible_agency_id")


async def _check_person(
    session: AsyncSession, case: Case, person_id: uuid.UUID | None, role: ProtectedPerson
) -> None:
    if person_id is None:
        return
    link = await session.get(CasePerson, (case.id, person_id))
    if link is None or link.role != role.value:
        raise ValidationFailed(
            [
                {
                    "field": "protected_person_id",
                    "message": "must be a person of this case in the role protected_person",
                }
            ]
        )


def _check_state(row: ProtectionMeasure) -> None:
    errors = []
    if row.end_date is not None and row.end_date < row.start_date:
        errors.append({"field": "end", "message": "must not be before start"})
    refused = row.status == ProtectionStatus.REFUSED.value
    if refused and row.refusal_reason is None:
        errors.append(
            {"field": "refusal_reason", "message": "a refusal is recorded with its reason"}
        )
    if errors:
        raise ValidationFailed(errors)


async def _seal_reason(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    row_id: uuid.UUID,
    text: str,
) -> bytes:
    return await case_text.seal_text(
        session,
        keys,
        victim_person_id=case.victim_person_id,
        table=TABLE,
        column="refusal_reason",
        row_id=row_id,
        text=text,
        actor=principal,
    )


def _reason_only_when_refused(status: ProtectionStatus, reason: str | None) -> None:
    if reason is not None and status is not ProtectionStatus.REFUSED:
        raise ValidationFailed(
            [{"field": "refusal_reason", "message": "only given with status 'refused'"}]
        )


async def create_measure(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    body: ProtectionMeasureCreate,
) -> ProtectionMeasurePublic:
    """Record a protection measure on a readable case (see the module rules)."""
    granted = await get_granted_case(
        session, principal, case_id, action="protection_measure.create"
    )
    case = granted.case
    if not granted.grant.whole_case and body.responsible_agency_id != principal.agency_id:
        raise ValidationFailed(
            [
                {
                    "field": "responsible_agency_id",
                    "message": "a participating agency records the measures it is responsible for",
                }
            ]
        )
    _reason_only_when_refused(body.status, body.refusal_reason)
    await _check_agency(session, body.responsible_agency_id)
    await _check_person(session, case, body.protected_person_id, body.protected_person)
    measure_id = uuid.uuid4()
    row = ProtectionMeasure(
        id=measure_id,
        case_id=case.id,
        measure=body.measure.value,
        protected_person=body.protected_person.value,
        protected_person_id=body.protected_person_id,
        start_date=body.start,
        end_date=body.end,
        status=body.status.value,
        refusal_reason=(
            await _seal_reason(session, keys, principal, case, measure_id, body.refusal_reason)
            if body.refusal_reason
            else None
        ),
        responsible_agency_id=body.responsible_agency_id,
        created_by=principal.actor_id,
    )
    _check_state(row)
    session.add(row)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "protection_measure_recorded",
        principal=principal,
        ref_type="protection_measure",
        ref_id=row.id,
        detail=f"{row.measure}:{row.status}",
    )
    await audit.record(
        session,
        action="protection_measure.create",
        resource_type="protection_measure",
        resource_id=row.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("refusal_reason",) if row.refusal_reason else (),
    )
    written = {"refusal_reason": body.refusal_reason or None}
    return await _public(session, keys, principal, case, row, written=written)


async def update_measure(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    measure_id: uuid.UUID,
    body: ProtectionMeasureUpdate,
    *,
    if_match: str | None,
) -> ProtectionMeasurePublic:
    """Change dates, status (with the reason for a refusal) or the responsible agency
    of the version named by If-Match."""
    action = "protection_measure.update"
    granted = await get_granted_case(session, principal, case_id, action=action)
    case = granted.case
    version = required_version(if_match)
    statement = _of_case(case.id, granted, principal).where(col(ProtectionMeasure.id) == measure_id)
    row = (await session.execute(statement.with_for_update())).scalar_one_or_none()
    if row is None:
        raise NotFound()
    if row.version != version:
        raise stale(row.version)
    given = body.model_fields_set
    if "status" in given and body.status is None:
        raise ValidationFailed([{"field": "status", "message": "must not be null"}])
    new_status = body.status or ProtectionStatus(row.status)
    _reason_only_when_refused(new_status, body.refusal_reason)
    if body.responsible_agency_id is not None:
        await _check_agency(session, body.responsible_agency_id)
        row.responsible_agency_id = body.responsible_agency_id
    if body.start is not None:
        row.start_date = body.start
    if "end" in given:
        row.end_date = body.end
    row.status = new_status.value
    if body.refusal_reason:
        row.refusal_reason = await _seal_reason(
            session, keys, principal, case, row.id, body.refusal_reason
        )
    elif new_status is not ProtectionStatus.REFUSED:
        row.refusal_reason = None
    _check_state(row)
    row.version += 1
    row.updated_at = datetime.now(UTC)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "protection_measure_changed",
        principal=principal,
        ref_type="protection_measure",
        ref_id=row.id,
        detail=f"{row.measure}:{row.status}",
    )
    await audit.record(
        session,
        action=action,
        resource_type="protection_measure",
        resource_id=row.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=tuple(sorted(given)),
    )
    return await _public(session, keys, principal, case, row)


async def list_measures(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    params: PageParams,
) -> tuple[list[ProtectionMeasurePublic], str | None]:
    """The case's protection measures, newest first; audited as one read."""
    granted = await get_granted_case(session, principal, case_id, action="protection_measure.list")
    case = granted.case
    statement = paginate(
        _of_case(case.id, granted, principal),
        params,
        col(ProtectionMeasure.created_at),
        col(ProtectionMeasure.id),
    )
    rows = list((await session.execute(statement)).scalars())
    kept, cursor = page_of(rows, params, lambda r: (r.created_at, r.id))
    await audit.record(
        session,
        action="protection_measure.list",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
    )
    return [await _public(session, keys, principal, case, r) for r in kept], cursor


def _of_case(case_id: uuid.UUID, granted: GrantedCase, principal: Principal) -> Select[Any]:
    """The case's measures this reader sees: all, or a participant's own."""
    statement = select(ProtectionMeasure).where(col(ProtectionMeasure.case_id) == case_id)
    if not granted.grant.whole_case:
        statement = statement.where(
            col(ProtectionMeasure.responsible_agency_id) == principal.agency_id
        )
    return statement
