"""The register of data subjects' requests (Law 91/2025): access, rectification,
erasure, restriction, objection and withdrawal of consent.

Rules:
- Who: the lead agency of the case (the one access rule, actions
  `data_request.create`, `data_request.complete`, `data_request.reject`, which no
  participant role holds). Any other agency gets 404, for the case and for the
  request. The register lists the requests of the cases the caller's agency leads.
- The person is the case's victim or another person of the case (else 422), and the
  request says how it came (`channel`), who made it (`self` or
  `legal_representative`) and whether the identity was checked.
- Deadlines (`app.domain.working_days`), from the day of receipt in Vietnam's time:
  acknowledge within `VCM_DATA_REQUEST_ACK_WORKING_DAYS` (2) working days, counted on
  the `public_holidays` calendar, and complete within
  `VCM_DATA_REQUEST_COMPLETE_DAYS` (15) calendar days. Entering the request in the
  register is its acknowledgement; `acknowledged_late` says it came after the day.
- A request is open until completed (an `outcome` is required) or rejected (a
  `reason` is required); once closed it stays closed (409). An open request past
  `complete_by` is overdue (`?overdue=true`) and is announced once to the lead
  agency by the webhook event `data_request.overdue` (ids and codes only), by the
  sweep `announce_overdue`, which the register's list runs.
- Completing carries the request out, or checks it was:
  - `consent_withdrawal`: `consent_ids` names consents of the case (else 422); each
    still active is withdrawn through the consents service (audited, on the
    timeline, and the referrals resting on it lose their basis at once);
  - `erasure`: the person must already be erased (the system administrator's
    erasure order, `POST /persons/{id}/erasure`), else 409; the outcome is then not
    kept (the person's key, which would seal it, is gone);
  - `rectification`: the person's record must have been corrected (`PATCH`) since
    the request was received, else 409;
  - `restriction`: the person is restricted from then on: their identity is revealed
    to supervisors only (`app.services.restriction`);
  - `access`, `objection`: recorded with their outcome.
- The note, outcome and reason are sealed under the person's data key; the answer
  to the create shows the note as written. Every call is audited.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.data_requests import RequestKind, RequestStatus
from app.domain.working_days import is_past, local_day, request_deadlines
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import msg
from app.models import Case, CaseConsent, CasePerson, DataRequest, Person, PublicHoliday
from app.models.case_records import ConsentStatus
from app.schemas.data_request import DataRequestClose, DataRequestCreate, DataRequestPublic
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import case_text, consents
from app.services.cases.access import get_granted_case
from app.services.pagination import PageParams, page_of, paginate
from app.services.webhooks.outbox import emit

TABLE = "data_requests"
RESOURCE = "data_request"
OVERDUE_EVENT = "data_request.overdue"
_TEXTS = ("note", "outcome", "reason")


class NotCarriedOut(Conflict):
    slug = "data-request-not-carried-out"
    title_en, title_vi = (
        "The request has not been carried out yet",
        "Yêu cầu chưa được thực hiện",
    )


class DataRequestClosed(Conflict):
    slug = "data-request-closed"
    title_en, title_vi = (
        "This request has already been closed",
        "Yêu cầu này đã được xử lý xong",
    )


async def holidays_between(session: AsyncSession, first: date, last: date) -> frozenset[date]:
    found = await session.execute(
        select(col(PublicHoliday.day)).where(
            col(PublicHoliday.day) >= first, col(PublicHoliday.day) <= last
        )
    )
    return frozenset(found.scalars().all())


def _overdue(row: DataRequest, now: datetime) -> bool:
    return row.status == RequestStatus.OPEN.value and is_past(row.complete_by, now)


def _public(row: DataRequest, texts: dict[str, str | None], now: datetime) -> DataRequestPublic:
    return DataRequestPublic(
        id=row.id,
        case_id=row.case_id,
        person_id=row.person_id,
        kind=row.kind,
        received_at=row.received_at,
        channel=row.channel,
        requester=row.requester,
        identity_checked=row.identity_checked,
        acknowledge_by=row.acknowledge_by,
        complete_by=row.complete_by,
        acknowledged_at=row.created_at,
        acknowledged_late=local_day(row.created_at) > row.acknowledge_by,
        status=row.status,
        overdue=_overdue(row, now),
        note=texts.get("note"),
        outcome=texts.get("outcome"),
        reason=texts.get("reason"),
        recorded_by=row.recorded_by,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
    )


async def _seal(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    row: DataRequest,
    column: str,
    text: str,
) -> bytes:
    return await case_text.seal_text(
        session,
        keys,
        victim_person_id=row.person_id,
        table=TABLE,
        column=column,
        row_id=row.id,
        text=text,
        actor=principal,
    )


async def _texts(
    session: AsyncSession, keys: KeyProvider, principal: Principal, row: DataRequest
) -> dict[str, str | None]:
    return {
        column: await case_text.open_text(
            session,
            keys,
            victim_person_id=row.person_id,
            table=TABLE,
            column=column,
            row_id=row.id,
            ciphertext=getattr(row, column),
            actor=principal,
        )
        for column in _TEXTS
    }


async def _of_the_case(session: AsyncSession, case: Case, person_id: uuid.UUID) -> bool:
    if person_id == case.victim_person_id:
        return True
    found = await session.execute(
        select(col(CasePerson.person_id)).where(
            col(CasePerson.case_id) == case.id, col(CasePerson.person_id) == person_id
        )
    )
    return found.first() is not None


async def create(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    body: DataRequestCreate,
    *,
    ack_working_days: int,
    complete_days: int,
) -> DataRequestPublic:
    """Enter a request in the register (module rules)."""
    now = datetime.now(UTC)
    granted = await get_granted_case(session, principal, body.case_id, action="data_request.create")
    case = granted.case
    if body.received_at > now + timedelta(minutes=5):
        raise ValidationFailed([{"field": "received_at", "message": "must not be in the future"}])
    if not await _of_the_case(session, case, body.person_id):
        raise ValidationFailed([{"field": "person_id", "message": "is not a person of this case"}])
    received = local_day(body.received_at)
    # Two working days are never more than a Tết and two weekends away.
    holidays = await holidays_between(session, received, received + timedelta(days=60))
    deadlines = request_deadlines(
        body.received_at,
        holidays,
        ack_working_days=ack_working_days,
        complete_days=complete_days,
    )
    row = DataRequest(
        id=uuid.uuid4(),
        case_id=case.id,
        person_id=body.person_id,
        kind=body.kind.value,
        channel=body.channel.value,
        requester=body.requester.value,
        identity_checked=body.identity_checked,
        received_at=body.received_at,
        acknowledge_by=deadlines.acknowledge_by,
        complete_by=deadlines.complete_by,
        recorded_by=principal.actor_id,
        created_at=now,
    )
    if body.note:
        row.note = await _seal(session, keys, principal, row, "note", body.note)
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        action="data_request.create",
        resource_type=RESOURCE,
        resource_id=row.id,
        principal=principal,
        person_id=row.person_id,
        fields=("note",) if body.note else (),
        reason=f"kind:{row.kind}",
    )
    return _public(row, {"note": body.note or None}, now)


async def announce_overdue(session: AsyncSession, now: datetime | None = None) -> int:
    """Announce `data_request.overdue` once for every open request past its
    completion day, to the case's lead agency; the number announced."""
    now = now or datetime.now(UTC)
    rows = (
        await session.execute(
            select(DataRequest, col(Case.owner_agency_id))
            .join(Case, col(Case.id) == col(DataRequest.case_id))
            .where(
                col(DataRequest.status) == RequestStatus.OPEN.value,
                col(DataRequest.complete_by) < local_day(now),
                col(DataRequest.overdue_notified_at).is_(None),
            )
            .with_for_update(of=DataRequest, skip_locked=True)
        )
    ).all()
    for row, agency_id in rows:
        await emit(
            session,
            event_type=OVERDUE_EVENT,
            agency_ids=[agency_id],
            data={
                "data_request_id": str(row.id),
                "case_id": str(row.case_id),
                "kind": row.kind,
                "complete_by": row.complete_by.isoformat(),
            },
        )
    if rows:
        await session.execute(
            update(DataRequest)
            .where(col(DataRequest.id).in_([row.id for row, _ in rows]))
            .values(overdue_notified_at=now)
        )
    return len(rows)


def _register(
    principal: Principal, overdue: bool | None, today: date, case_id: uuid.UUID | None
) -> Select[Any]:
    statement: Select[Any] = (
        select(DataRequest)
        .join(Case, col(Case.id) == col(DataRequest.case_id))
        .where(col(Case.owner_agency_id) == principal.agency_id)
    )
    if case_id is not None:
        statement = statement.where(col(DataRequest.case_id) == case_id)
    late = (col(DataRequest.status) == RequestStatus.OPEN.value) & (
        col(DataRequest.complete_by) < today
    )
    if overdue is True:
        statement = statement.where(late)
    elif overdue is False:
        statement = statement.where(
            or_(
                col(DataRequest.status) != RequestStatus.OPEN.value,
                col(DataRequest.complete_by) >= today,
            )
        )
    return statement


async def _carry_out(
    session: AsyncSession,
    principal: Principal,
    row: DataRequest,
    body: DataRequestClose,
    person: Any,
) -> None:
    """What completing a request of this kind does or requires (module rules)."""
    if row.kind == RequestKind.CONSENT_WITHDRAWAL:
        wanted = set(body.consent_ids or ())
        found = {
            c.id: c
            for c in (
                await session.execute(
                    select(CaseConsent).where(
                        col(CaseConsent.case_id) == row.case_id, col(CaseConsent.id).in_(wanted)
                    )
                )
            ).scalars()
        }
        if set(found) != wanted:
            raise ValidationFailed(
                [{"field": "consent_ids", "message": "names a consent not of this case"}]
            )
        for consent_id in sorted(wanted):
            if found[consent_id].status == ConsentStatus.ACTIVE.value:
                await consents.withdraw_consent(session, principal, row.case_id, consent_id)
        return
    if row.kind == RequestKind.RESTRICTION:
        await session.execute(
            update(Person)
            .where(col(Person.id) == row.person_id, col(Person.restricted_at).is_(None))
            .values(restricted_at=datetime.now(UTC))
        )
        return
    if row.kind == RequestKind.ERASURE and person.erased_at is None:
        raise NotCarriedOut(
            "The person is not erased yet: a system administrator's erasure order "
            "(POST /api/v1/persons/{id}/erasure) carries the request out."
        )
    if row.kind == RequestKind.RECTIFICATION and person.updated_at <= row.received_at:
        raise NotCarriedOut(
            "The person's record has not been corrected since the request was received."
        )


async def list_requests(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    params: PageParams,
    *,
    overdue: bool | None,
    case_id: uuid.UUID | None = None,
) -> tuple[list[DataRequestPublic], str | None]:
    """The requests of the cases the caller's agency leads, newest first (module
    rules); announces the overdue ones first."""
    now = datetime.now(UTC)
    await announce_overdue(session, now)
    statement = paginate(
        _register(principal, overdue, local_day(now), case_id),
        params,
        col(DataRequest.created_at),
        col(DataRequest.id),
    )
    rows = list((await session.execute(statement)).scalars().all())
    kept, cursor = page_of(rows, params, lambda r: (r.created_at, r.id))
    items = [_public(row, await _texts(session, keys, principal, row), now) for row in kept]
    await audit.record(
        session,
        action="data_request.list",
        resource_type=RESOURCE,
        principal=principal,
        fields=_TEXTS,
        reason=None if overdue is None else f"overdue:{str(overdue).lower()}",
    )
    return items, cursor


async def close(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    request_id: uuid.UUID,
    body: DataRequestClose,
    *,
    status: RequestStatus,
) -> DataRequestPublic:
    """Complete (an outcome required) or reject (a reason required) an open request."""
    verb = "complete" if status is RequestStatus.COMPLETED else "reject"
    row = (
        await session.execute(
            select(DataRequest).where(col(DataRequest.id) == request_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound()
    await get_granted_case(session, principal, row.case_id, action=f"data_request.{verb}")
    if row.status != RequestStatus.OPEN.value:
        raise DataRequestClosed("This request is no longer open.")
    needed = "outcome" if status is RequestStatus.COMPLETED else "reason"
    if getattr(body, needed) is None:
        raise ValidationFailed(
            [{"field": needed, "message": msg("is required to {action}", action=verb)}]
        )
    withdrawing = status is RequestStatus.COMPLETED and row.kind == RequestKind.CONSENT_WITHDRAWAL
    if (body.consent_ids is not None) != withdrawing:
        message = msg("is required") if withdrawing else msg("only completes a consent_withdrawal")
        raise ValidationFailed([{"field": "consent_ids", "message": message}])
    person = (
        await session.execute(
            select(col(Person.erased_at), col(Person.updated_at)).where(
                col(Person.id) == row.person_id
            )
        )
    ).one()
    if status is RequestStatus.COMPLETED:
        await _carry_out(session, principal, row, body, person)
    now = datetime.now(UTC)
    row.status = status.value
    row.closed_at = now
    row.closed_by = principal.actor_id
    written = []
    for column in ("outcome", "reason"):
        text = getattr(body, column)
        # Nothing can be sealed under an erased person's shredded key: not kept.
        if text is not None and person.erased_at is None:
            setattr(row, column, await _seal(session, keys, principal, row, column, text))
            written.append(column)
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        action=f"data_request.{verb}",
        resource_type=RESOURCE,
        resource_id=row.id,
        principal=principal,
        person_id=row.person_id,
        fields=tuple(written),
        reason=f"kind:{row.kind}",
    )
    return _public(row, await _texts(session, keys, principal, row), now)
