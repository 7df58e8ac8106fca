"""Hotline 111 reports: record, list and read; triage is in `hotline_triage`.

Rules:
- A report belongs to the hotline centre of the operator who recorded it. It is
  readable by that centre's staff and, once forwarded, by the agency it was forwarded
  to (`hotline_reports:read`). Everyone else gets 404, as for a report that does not
  exist; an attempt on an existing report is recorded as a denied audit event.
- The caller and each suspected victim are persons (`hotline_caller`,
  `reported_person`) with their own data keys. The caller's relation, the summary and
  the closing reason are sealed under the caller's key; a suspected victim's location
  under that victim's key (see `app.models.hotline` for why). Erasing a person shreds
  exactly their part of the report.
- A list carries no identity value, not even masked. A single read is masked, with the
  free text withheld; `reveal` with a stated purpose shows the values to a holder of
  `hotline_reports:reveal_identity` (the centre's operators) or
  `cases:reveal_identity` (the forward target's case workers); anyone else asking to
  reveal gets 403, recorded. A reveal without a known purpose is 422, as for a case
  (the route checks it with the case reads' `reveal_purpose`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.errors import DeniedForbidden, ValidationFailed
from app.models import Case, HotlineReport, HotlineSuspectedVictim, Province
from app.models.person import PersonKind
from app.schemas.hotline import (
    CallerPublic,
    HotlineReportCreate,
    HotlineReportPublic,
    SuspectedVictimPublic,
)
from app.security.blind_index import BlindIndexer
from app.security.crypto import FieldContext
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import hotline_queue, persons, vault
from app.services.pagination import PageParams
from app.services.person_fields import PersonFields, field_errors
from app.services.reach import load_readable

REPORTS = "hotline_reports"
VICTIMS = "hotline_suspected_victims"
_CLOCK_SKEW = timedelta(minutes=5)
_CREATE_FIELDS = ("caller.name", "caller.phone", "caller.relation", "summary")
_MASKED_FIELDS = ("caller.name", "caller.phone", "suspected_victims.name")
_REVEALED_FIELDS = (
    *_MASKED_FIELDS,
    "caller.relation",
    "summary",
    "suspected_victims.location",
    "close_reason",
)


def readable_reports(principal: Principal) -> Select[Any]:
    """SELECT of the reports this principal may read: its agency owns them or they were
    forwarded to its agency. No rows without `hotline_reports:read`."""
    statement = select(HotlineReport)
    if not principal.can(Permission.HOTLINE_REPORTS_READ):
        return statement.where(false())
    return statement.where(
        or_(
            col(HotlineReport.owner_agency_id) == principal.agency_id,
            col(HotlineReport.forwarded_to_agency_id) == principal.agency_id,
        )
    )


async def get_readable_report(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    *,
    action: str,
    for_update: bool = False,
) -> HotlineReport:
    """The report, or 404; an existing report out of reach also leaves a denied audit
    event (`action`, reason `out_of_reach`)."""
    report: HotlineReport = await load_readable(
        session,
        principal,
        readable_reports(principal),
        col(HotlineReport.id),
        report_id,
        resource_type="hotline_report",
        action=action,
        for_update=for_update,
    )
    return report


def text_context(table: str, column: str, row_id: uuid.UUID, person_id: uuid.UUID) -> FieldContext:
    return FieldContext(table=table, column=column, row_id=row_id, person_id=person_id)


async def _new_person(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    kind: PersonKind,
    person_fields: PersonFields,
    *,
    prefix: str,
    names: dict[str, str],
) -> uuid.UUID:
    """Create a person; validation errors renamed to the request's own field names."""
    try:
        person = await persons.create_person(session, keys, indexer, kind, person_fields)
    except ValidationFailed as exc:
        errors = [
            {**e, "field": f"{prefix}.{names.get(e['field'], e['field'])}"}
            for e in exc.extra.get("errors", [])
        ]
        raise ValidationFailed(errors) from None
    return person.id


# The request's names for person fields (errors name `caller.name`, not full_name).
_NAMES = {"full_name": "name"}


async def _check(session: AsyncSession, data: HotlineReportCreate) -> None:
    errors: list[dict[str, str]] = []
    if await session.get(Province, data.province_code) is None:
        errors.append({"field": "province_code", "message": "unknown province code"})
    if data.received_at > datetime.now(UTC) + _CLOCK_SKEW:
        errors.append({"field": "received_at", "message": "must not be in the future"})
    caller = PersonFields(full_name=data.caller.name, phone=data.caller.phone)
    errors += await field_errors(session, "caller", caller, _NAMES)
    for position, victim in enumerate(data.suspected_victims):
        reported = PersonFields(
            full_name=victim.name, sex=victim.sex, nationality=victim.nationality
        )
        errors += await field_errors(session, f"suspected_victims[{position}]", reported, _NAMES)
    if errors:
        raise ValidationFailed(errors)


async def create_report(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    principal: Principal,
    data: HotlineReportCreate,
) -> HotlineReport:
    """Record a report owned by the operator's centre, status `open` (module rules).
    Flushes; the request's transaction commits."""
    await _check(session, data)
    report_id = uuid.uuid4()
    caller_id = await _new_person(
        session,
        keys,
        indexer,
        PersonKind.HOTLINE_CALLER,
        PersonFields(full_name=data.caller.name, phone=data.caller.phone),
        prefix="caller",
        names={"full_name": "name"},
    )
    now = datetime.now(UTC)
    report = HotlineReport(
        id=report_id,
        received_at=data.received_at,
        channel=data.channel.value,
        province_code=data.province_code,
        urgency=data.urgency.value,
        respond_by=hotline_queue.respond_by(data.urgency.value, data.received_at),
        owner_agency_id=principal.agency_id,
        created_by=principal.actor_id,
        caller_person_id=caller_id,
        summary=await vault.seal_text(
            session, keys, text_context(REPORTS, "summary", report_id, caller_id), data.summary
        ),
        created_at=now,
        updated_at=now,
    )
    if data.caller.relation:
        ctx = text_context(REPORTS, "caller_relation", report_id, caller_id)
        report.caller_relation = await vault.seal_text(session, keys, ctx, data.caller.relation)
    session.add(report)
    await session.flush()
    for position, victim in enumerate(data.suspected_victims):
        person_id = await _new_person(
            session,
            keys,
            indexer,
            PersonKind.REPORTED_PERSON,
            PersonFields(full_name=victim.name, sex=victim.sex, nationality=victim.nationality),
            prefix=f"suspected_victims[{position}]",
            names={"full_name": "name"},
        )
        row = HotlineSuspectedVictim(
            report_id=report_id,
            position=position,
            person_id=person_id,
            approximate_age=victim.approximate_age,
        )
        if victim.location:
            ctx = text_context(VICTIMS, "location", report_id, person_id)
            row.location = await vault.seal_text(session, keys, ctx, victim.location)
        session.add(row)
    await session.flush()
    given = [f for f in _CREATE_FIELDS if _given(data, f)]
    if data.suspected_victims:
        given += ["suspected_victims.name", "suspected_victims.location"]
    await audit.record(
        session,
        action="hotline_report.create",
        resource_type="hotline_report",
        resource_id=report_id,
        principal=principal,
        person_id=caller_id,
        fields=given,
    )
    await hotline_queue.announce_created(session, report)
    return report


def _given(data: HotlineReportCreate, name: str) -> bool:
    if name == "summary":
        return True
    return getattr(data.caller, name.split(".", 1)[1]) is not None


async def list_reports(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    now: datetime,
    *,
    status: str | None = None,
    overdue: bool | None = None,
) -> tuple[list[HotlineReport], str | None]:
    """Readable reports in the queue's order (`hotline_queue`: those in immediate
    danger waiting for an answer first, then newest first), filtered by status and
    `overdue`; audited as one `hotline_report.list` event."""
    statement = readable_reports(principal)
    if status is not None:
        statement = statement.where(col(HotlineReport.status) == status)
    statement = hotline_queue.in_queue_order(statement, params, now, overdue=overdue)
    rows = list((await session.execute(statement)).scalars().all())
    await audit.record(
        session, action="hotline_report.list", resource_type="hotline_report", principal=principal
    )
    return hotline_queue.page_of(rows, params)


def may_reveal(principal: Principal) -> bool:
    return principal.can(Permission.HOTLINE_REPORTS_REVEAL) or principal.can(
        Permission.CASES_REVEAL_IDENTITY
    )


async def suspected_victims(
    session: AsyncSession, report_id: uuid.UUID
) -> Sequence[HotlineSuspectedVictim]:
    rows = await session.execute(
        select(HotlineSuspectedVictim)
        .where(col(HotlineSuspectedVictim.report_id) == report_id)
        .order_by(col(HotlineSuspectedVictim.position))
    )
    return rows.scalars().all()


async def linked_case_ids(session: AsyncSession, report_id: uuid.UUID) -> list[uuid.UUID]:
    """The cases opened from the report (`cases.hotline_report_id`), oldest first."""
    rows = await session.execute(
        select(col(Case.id))
        .where(col(Case.hotline_report_id) == report_id)
        .order_by(col(Case.created_at), col(Case.id))
    )
    return list(rows.scalars().all())


async def read_report(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    report_id: uuid.UUID,
    *,
    reveal: bool,
    purpose: str | None,
) -> HotlineReportPublic:
    """One report, masked or revealed (module rules); audited as `hotline_report.read`
    or `hotline_report.reveal` with the purpose and the field names."""
    revealing = reveal and purpose is not None
    action = "hotline_report.reveal" if revealing else "hotline_report.read"
    report = await get_readable_report(session, principal, report_id, action=action)
    if revealing and not may_reveal(principal):
        await audit.record(
            session,
            action=action,
            resource_type="hotline_report",
            resource_id=report.id,
            principal=principal,
            person_id=report.caller_person_id,
            purpose=purpose,
            outcome="denied",
            reason="missing_permission",
        )
        raise DeniedForbidden("Revealing a hotline report's identities needs a reveal permission.")
    victims = await suspected_victims(session, report.id)
    case_ids = await linked_case_ids(session, report.id)
    views = await persons.read_persons(
        session,
        keys,
        [report.caller_person_id, *(v.person_id for v in victims)],
        reveal=revealing,
        actor=principal,
    )
    caller = views[report.caller_person_id]
    caller_id = report.caller_person_id

    async def text(table: str, column: str, person_id: uuid.UUID, value: bytes | None) -> Any:
        if not revealing:
            return None
        ctx = text_context(table, column, report.id, person_id)
        return await vault.open_text(session, keys, ctx, value, actor=principal)

    result = HotlineReportPublic(
        id=report.id,
        received_at=report.received_at,
        channel=report.channel,
        province_code=report.province_code,
        urgency=report.urgency,
        status=report.status,
        created_by=report.created_by,
        revealed=revealing,
        owner_agency_id=report.owner_agency_id,
        caller=CallerPublic(
            person_id=caller_id,
            name=caller.full_name,
            phone=caller.phone,
            relation=await text(REPORTS, "caller_relation", caller_id, report.caller_relation),
        ),
        summary=await text(REPORTS, "summary", caller_id, report.summary),
        suspected_victims=[
            SuspectedVictimPublic(
                person_id=v.person_id,
                name=views[v.person_id].full_name,
                sex=views[v.person_id].sex,
                approximate_age=v.approximate_age,
                location=await text(VICTIMS, "location", v.person_id, v.location),
            )
            for v in victims
        ],
        forwarded_to_agency_id=report.forwarded_to_agency_id,
        case_id=report.case_id,
        case_ids=case_ids,
        close_reason=await text(REPORTS, "close_reason", caller_id, report.close_reason),
        triaged_at=report.triaged_at,
        triaged_by=report.triaged_by,
        respond_by=report.respond_by,
        responded_at=report.responded_at,
        overdue=hotline_queue.is_overdue(report, datetime.now(UTC)),
        created_at=report.created_at,
        version=report.version,
    )
    await audit.record(
        session,
        action=action,
        resource_type="hotline_report",
        resource_id=report.id,
        principal=principal,
        person_id=caller_id,
        fields=_REVEALED_FIELDS if revealing else _MASKED_FIELDS,
        purpose=purpose if revealing else None,
    )
    return result
