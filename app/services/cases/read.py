"""Reading cases: one case (masked, or revealed with a purpose), lists, exact-match
search, the timeline and the access log.

Rules:
- Every query starts from the access rule (`app.services.cases.access`): one case
  through its grant (`granted_by_id()` on the driver, `get_granted_case` through the
  ORM), lists and search through `readable_rows()`, bound with `reader(principal)`
  (for a caller without `cases:read`: no rows). A case out of reach is 404 with a
  denied audit event.
- A single case shows its persons masked (the victim, and every other person under
  `persons`; accompanying minors under `accompanying_minors` too). Revealing needs
  `cases:reveal_identity` and a stated purpose of use (`X-Purpose-Of-Use`, one of
  the codes in API.md); it is audited as `case.reveal` with the fields revealed and
  the purpose. A participating agency reads only its shared fields
  (`CaseSharedView`), the same way masked or revealed, audited with those fields and
  its roles. A break-glass holder reads the case whole, every read audited with the
  reason `break_glass:<id>` (`app.services.break_glass`).
- Lists and search answers carry the case skeleton only, no identity field, and the
  search audit names the index used, never the value searched.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ARRAY, Uuid, and_, any_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.audit.service import access_log
from app.audit.writer import PURPOSE_HEADER, PURPOSES
from app.driver import DriverStatement, reads_only
from app.errors import DeniedForbidden, ValidationFailed
from app.i18n import msg
from app.models import Case, CasePerson, CaseTimelineEntry
from app.models.person import ENCRYPTED_COLUMNS, PersonKind
from app.schemas.case import (
    CasePersonKind,
    CasePersonPublic,
    CasePublic,
    CaseSharedView,
    CaseSummary,
    MinorPublic,
    PersonPublic,
    TimelineEntryPublic,
)
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import case_persons, persons_search, restriction
from app.services.cases import case_text, shared
from app.services.cases.access import (
    CASES_TABLE,
    SEES_WHOLE_CASE,
    CaseGrant,
    get_readable_case,
    granted_by_id,
    granted_rows,
    readable_rows,
    reader,
)
from app.services.pagination import PageParams, decode_cursor, page_of, paginate
from app.services.persons import PersonView


@dataclass(frozen=True)
class CaseFilters:
    status: str | None = None
    province_code: str | None = None
    assigned_to: uuid.UUID | None = None
    is_child: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    overdue: bool | None = None


def summary(case: Case) -> CaseSummary:
    return CaseSummary.model_validate(case, from_attributes=True)


def person_public(view: PersonView) -> PersonPublic:
    return PersonPublic(
        id=view.id,
        revealed=view.revealed,
        erased=view.erased,
        **view.identity(),
        sex=view.sex,
        nationality=view.nationality,
        birth_year=view.birth_year,
        hometown_province_code=view.hometown_province_code,
        hometown_former_province_code=view.hometown_former_province_code,
    )


# A person's role in `case_persons` as the API names the kind of a person of a case.
KIND_OF_ROLE = {"minor": CasePersonKind.ACCOMPANYING_MINOR.value}


def case_person_public(link: case_persons.CasePersonView) -> CasePersonPublic:
    is_minor, age_basis = link.minor
    return CasePersonPublic(
        **person_public(link.person).model_dump(),
        kind=CasePersonKind(KIND_OF_ROLE.get(link.role, link.role)),
        relation=link.relation,
        age_estimate=link.age_estimate,
        is_minor=is_minor,
        age_basis=age_basis,
        added_at=link.added_at,
        version=link.person.version,
    )


async def case_public(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    *,
    reveal: bool = False,
) -> CasePublic:
    """The case with its victim and accompanying minors (masked unless `reveal`).
    Recording the read is the caller's."""
    linked = await case_persons.read_case_persons(
        session, keys, case.id, reveal=reveal, actor=principal
    )
    return case_view(case, linked)


def case_view(case: Case, linked: list[case_persons.CasePersonView]) -> CasePublic:
    """The case with the views of its persons (`case_persons.read_case_persons`)."""
    return _with_persons(summary(case), case.victim_person_id, linked)


def _with_persons(
    skeleton: CaseSummary, victim_person_id: uuid.UUID, linked: list[case_persons.CasePersonView]
) -> CasePublic:
    victim = next(link.person for link in linked if link.person.id == victim_person_id)
    minors = [
        MinorPublic(person=person_public(link.person), relation=link.relation)
        for link in linked
        if link.role == "minor"
    ]
    return CasePublic(
        **skeleton.model_dump(),
        victim=person_public(victim),
        accompanying_minors=minors,
        persons=[case_person_public(link) for link in linked if link.role != "victim"],
    )


# One case with the reader's grant and, for lead and former lead only, its persons and
# their wrapped keys: the whole read in one statement, built once and run on the driver.
_CASE_WITH_PERSONS = DriverStatement(
    case_persons.with_case_persons(granted_by_id(), col(Case.id), when=SEES_WHOLE_CASE)
)


def reveal_purpose(principal: Principal, reveal: str | None, purpose: str | None) -> str | None:
    """The purpose of a reveal request, or None for a masked read. 422 for an unknown
    `reveal` value or a missing or unknown purpose; 403 without the permission (the
    caller records the denial)."""
    if reveal is None:
        return None
    if reveal != "identity":
        raise ValidationFailed([{"field": "reveal", "message": "must be 'identity'"}])
    code = (purpose or "").strip().lower()
    if code not in PURPOSES:
        raise ValidationFailed(
            [
                {
                    "field": PURPOSE_HEADER,
                    "message": msg(
                        "revealing identity needs a purpose of use, one of: {purposes}",
                        purposes=", ".join(sorted(PURPOSES)),
                    ),
                }
            ]
        )
    return code


async def refuse_reveal(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID,
    person_id: uuid.UUID | None,
    purpose: str,
) -> DeniedForbidden:
    """Record a reveal refused for want of `cases:reveal_identity`; the 403 to raise."""
    await audit.record(
        session,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        principal=principal,
        person_id=person_id,
        purpose=purpose,
        outcome="denied",
        reason="missing_permission:cases:reveal_identity",
    )
    return DeniedForbidden("Revealing identity needs the 'cases:reveal_identity' permission.")


async def read_case(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    reveal: str | None = None,
    purpose: str | None = None,
) -> CasePublic | CaseSharedView:
    """One case, masked; revealed for `reveal="identity"` with a purpose (module
    rules). A participating agency gets only its shared fields (`CaseSharedView`)."""
    code = reveal_purpose(principal, reveal, purpose)
    rows, grant = await granted_rows(
        session, principal, _CASE_WITH_PERSONS, case_id, action="case.read"
    )
    victim_person_id: uuid.UUID = rows[0]["victim_person_id"]
    if code is not None and not principal.can(Permission.CASES_REVEAL_IDENTITY):
        raise await refuse_reveal(
            session,
            principal,
            action="case.reveal",
            resource_type="case",
            resource_id=case_id,
            person_id=victim_person_id,
            purpose=code,
        )
    if code is not None:
        await restriction.check_reveal(
            session,
            principal,
            [victim_person_id],
            action="case.reveal",
            resource_type="case",
            resource_id=case_id,
            purpose=code,
            case_id=case_id,
        )
    if not grant.whole_case:
        return await _shared_view(session, keys, principal, rows[0], grant, code)
    case = CaseSummary.model_validate(dict(rows[0]))
    # An integration client never receives an identity value, not even masked.
    linked = await case_persons.case_person_views(
        session,
        keys,
        rows,
        reveal=code is not None,
        actor=principal,
        withheld=principal.actor_type == "client",
    )
    public = _with_persons(case, victim_person_id, linked)
    # Nothing was written: the audit row may commit on its own (`app.driver`).
    reads_only(session)
    await audit.record(
        session,
        action="case.reveal" if code else "case.read",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=victim_person_id,
        fields=tuple(f"victim.{c}" for c in ENCRYPTED_COLUMNS) if code else (),
        purpose=code,
        reason=f"break_glass:{grant.break_glass_id}" if grant.via_break_glass else None,
    )
    return public


async def _shared_view(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    row: Any,
    grant: CaseGrant,
    purpose: str | None,
) -> CaseSharedView:
    """A participant's read: its shared fields only, a disclosure audited with them."""
    fields = sorted(grant.shared_fields)
    shown = shared.seen_by(principal, fields)
    values = await shared.shared_values(
        session, keys, principal, row, shown, reveal=purpose is not None
    )
    values.update(dict.fromkeys(set(fields) - set(shown)))
    reads_only(session)
    await audit.record(
        session,
        action="case.reveal" if purpose else "case.read",
        resource_type="case",
        resource_id=row["id"],
        principal=principal,
        person_id=row["victim_person_id"],
        fields=tuple(shown),
        purpose=purpose,
        reason="participant:" + ":".join(sorted(grant.roles)),
    )
    return CaseSharedView(
        id=row["id"],
        roles=sorted(grant.roles),
        referral_ids=sorted({uuid.UUID(p.referral_id) for p in grant.participations}, key=str),
        shared_fields=fields,
        revealed=purpose is not None,
        shared=values,
        version=row["version"],
    )


# Case list filters: name -> the condition, with its value bound by that name.
_LIST_FILTERS: dict[str, Any] = {
    "status": CASES_TABLE.c.status == bindparam("status"),
    "province_code": CASES_TABLE.c.province_code == bindparam("province_code"),
    "assigned_to": CASES_TABLE.c.assigned_to == bindparam("assigned_to"),
    "is_child": CASES_TABLE.c.is_child == bindparam("is_child"),
    "received_from": CASES_TABLE.c.received_at >= bindparam("received_from"),
    "received_to": CASES_TABLE.c.received_at < bindparam("received_to"),
    "overdue": CASES_TABLE.c.next_due_at < bindparam("now"),
    "not_overdue": or_(
        CASES_TABLE.c.next_due_at.is_(None), CASES_TABLE.c.next_due_at >= bindparam("now")
    ),
    "cursor": or_(
        CASES_TABLE.c.created_at < bindparam("cursor_created"),
        and_(
            CASES_TABLE.c.created_at == bindparam("cursor_created"),
            CASES_TABLE.c.id < bindparam("cursor_id"),
        ),
    ),
}


_NEWEST_FIRST = (CASES_TABLE.c.created_at.desc(), CASES_TABLE.c.id.desc())


@functools.lru_cache(maxsize=len(_LIST_FILTERS) ** 2 * 4)
def _list_statement(filters: tuple[str, ...]) -> DriverStatement:
    """The list statement for one combination of filters: built and compiled once per
    combination, newest first, one extra row to know whether a next page exists."""
    return DriverStatement(
        readable_rows()
        .where(*(_LIST_FILTERS[name] for name in filters))
        .order_by(*_NEWEST_FIRST)
        .limit(bindparam("limit"))
    )


async def list_cases(
    session: AsyncSession, principal: Principal, filters: CaseFilters, params: PageParams
) -> tuple[list[CaseSummary], str | None]:
    """Readable cases, newest first, filtered; one `case.list` event per page."""
    plain = ("status", "province_code", "assigned_to", "is_child", "received_from", "received_to")
    values: dict[str, Any] = {
        name: getattr(filters, name) for name in plain if getattr(filters, name) is not None
    }
    if filters.overdue is not None:
        values["overdue" if filters.overdue else "not_overdue"] = True
        values["now"] = datetime.now(UTC)
    if params.cursor:
        values["cursor_created"], values["cursor_id"] = decode_cursor(params.cursor)
        values["cursor"] = True
    rows = []
    if principal.can(Permission.CASES_READ):
        statement = _list_statement(tuple(sorted(set(values) & set(_LIST_FILTERS))))
        query = {**values, **reader(principal), "limit": params.limit + 1}
        rows = await statement.fetch(session, query)
    kept, cursor = page_of(rows, params, lambda r: (r["created_at"], r["id"]))
    reads_only(session)
    await audit.record(session, action="case.list", resource_type="case", principal=principal)
    return [CaseSummary.model_validate(dict(r)) for r in kept], cursor


# The readable cases of the persons a search found, newest first: built once, run on
# the driver, the person ids bound as one array.
_CASES_OF_PERSONS = DriverStatement(
    readable_rows()
    .where(
        CASES_TABLE.c.id.in_(
            select(col(CasePerson.case_id)).where(
                col(CasePerson.person_id) == any_(bindparam("person_ids", type_=ARRAY(Uuid)))
            )
        )
    )
    .order_by(*_NEWEST_FIRST)
    .limit(100)
)


async def search_cases(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    principal: Principal,
    *,
    national_id: str | None = None,
    phone: str | None = None,
    full_name: str | None = None,
    date_of_birth: date | None = None,
) -> list[CaseSummary]:
    """Readable cases with a victim or minor matching exactly (blind index, then the
    decrypted value compared). Audited as `case.search` with the index name only."""
    person_ids = await persons_search.search_persons(
        session,
        keys,
        indexer,
        national_id=national_id,
        phone=phone,
        full_name=full_name,
        date_of_birth=date_of_birth,
        kinds=(PersonKind.VICTIM, PersonKind.MINOR),
        actor=principal,
        # Out-of-reach persons are dropped in the lookup, before any decryption: a
        # person of another agency's case costs what no person costs (timing).
        within=principal,
    )
    index = "national_id" if national_id else ("phone" if phone else "name_dob")
    rows = []
    if person_ids and principal.can(Permission.CASES_READ):
        query = {**reader(principal), "person_ids": person_ids}
        rows = await _CASES_OF_PERSONS.fetch(session, query)
    # Nothing was written: the audit row may commit on its own (`app.driver`).
    reads_only(session)
    await audit.record(
        session,
        action="case.search",
        resource_type="case",
        principal=principal,
        reason=f"index:{index}",
    )
    return [CaseSummary.model_validate(dict(r)) for r in rows]


async def read_timeline(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    params: PageParams,
) -> tuple[list[TimelineEntryPublic], str | None]:
    """A page of the entries of a readable case, oldest first, notes decrypted."""
    case = await get_readable_case(session, principal, case_id, action="case_timeline.read")
    rows = (
        await session.execute(
            paginate(
                select(CaseTimelineEntry).where(col(CaseTimelineEntry.case_id) == case.id),
                params,
                col(CaseTimelineEntry.occurred_at),
                col(CaseTimelineEntry.id),
                oldest_first=True,
            )
        )
    ).scalars()
    entries, cursor = page_of(list(rows), params, lambda e: (e.occurred_at, e.id))
    out = []
    for entry in entries:
        note = await case_text.open_text(
            session,
            keys,
            victim_person_id=case.victim_person_id,
            table="case_timeline",
            column="note",
            row_id=entry.id,
            ciphertext=entry.note,
            actor=principal,
        )
        out.append(
            TimelineEntryPublic(
                id=entry.id,
                kind=entry.kind,
                occurred_at=entry.occurred_at,
                actor_id=entry.actor_id,
                actor_agency_id=entry.actor_agency_id,
                from_status=entry.from_status,
                to_status=entry.to_status,
                ref_type=entry.ref_type,
                ref_id=entry.ref_id,
                detail=entry.detail,
                note=note,
            )
        )
    await audit.record(
        session,
        action="case_timeline.read",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
    )
    return out, cursor


async def case_access_log(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, params: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """Who read or changed a readable case (supervisors: `cases:access_log`, else 403)."""
    case = await get_readable_case(session, principal, case_id, action="case.access_log")
    return await access_log(session, principal, "case", case.id, params)
