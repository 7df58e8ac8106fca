"""The one access rule on cases: what may this principal do on this case, and which
fields may it see (STYLE.md rule 3). Every route with a case id goes through
`get_granted_case` (the ORM, for work on the case) or `granted_rows` (the driver, for
the case read); lists and search start from `readable_rows()`.

The grant is the union of the relations a principal holds (the tables and the pure
decision are `app.domain.participation`):
- lead: the owning agency's staff, or the user the case is assigned to;
- former lead: an agency that transferred the case (an accepted or completed
  `transfer` referral from it), read only;
- participant: an agency whose referral of this case it accepted (not a transfer),
  while the referral is `accepted` and its basis holds: `basis_ends_at`, the consent's
  expiry, or its withdrawal, which the consents service writes in the withdrawing
  transaction. Checked in the same statement as the case, so a withdrawal, an expiry
  or a completion ends the access at the next request, without a sweep;
- break-glass: the user holds an unexpired, unrevoked emergency read of the case
  (`app.services.break_glass`): the case read only, whole; the same statement checks
  the expiry. It is the one grant a principal without `cases:read` (a hotline
  operator holding `cases:break_glass`) can have: for such a principal every other
  relation is ignored.

The grant is computed in one statement with the case (a LATERAL subquery), so a
participant's access decision is one round trip. No grant: 404, exactly as for a case
that does not exist, with a denied audit event for an existing one. A grant without
the action: 403 naming what is missing (the role, the agency function, or "read only
after transfer"), audited. A participant's statement carries no identity ciphertext:
the case's persons are joined only for lead and former lead, and a participant's
shared fields are read on their own (`app.services.cases.shared`).

Lists and search show whole case skeletons, so they reach only the cases a principal
holds as lead or former lead; a participant finds its cases through its referrals, a
break-glass holder by the id it broke the glass on.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from asyncpg import Record
from sqlalchemy import (
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.participation import ParticipantRole, Participation, Refusal, refusal
from app.driver import DriverStatement
from app.errors import DeniedForbidden
from app.models import AgencyKind, BreakGlass, Case, Referral
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.reach import out_of_reach

CASES_TABLE = Case.metadata.tables[Case.__tablename__]
_REFERRALS = Referral.metadata.tables[Referral.__tablename__]
_KINDS = AgencyKind.metadata.tables[AgencyKind.__tablename__]
_BREAK_GLASS = BreakGlass.metadata.tables[BreakGlass.__tablename__]

# The reader, as bound parameters: every statement is built and compiled once.
_READER_AGENCY = bindparam("reader_agency_id", type_=Uuid())
_READER = bindparam("reader_id", type_=Uuid())
_READER_KIND = bindparam("reader_kind", type_=String())

_C, _R = CASES_TABLE.c, _REFERRALS.c
# Each relation, written once. Two comparisons, not IN: an IN list is re-rendered on
# every execution.
_AS_LEAD = _C.owner_agency_id == _READER_AGENCY
_AS_ASSIGNEE = _C.assigned_to == _READER
_LEAD = func.coalesce(or_(_AS_LEAD, _AS_ASSIGNEE), false())
# A referral of the case that makes the reader's agency a former lead: its transfer
# away, accepted (or since completed).
_TRANSFERRED_BY_READER = and_(
    _R.from_agency_id == _READER_AGENCY,
    _R.purpose == "transfer",
    or_(_R.status == "accepted", _R.status == "completed"),
)
# A referral that makes the reader's agency a participant now: accepted, not a
# transfer, its basis holding (`basis_ends_at`: the consent's expiry or withdrawal).
_PARTICIPATING = and_(
    _R.to_agency_id == _READER_AGENCY,
    _R.status == "accepted",
    _R.purpose != "transfer",
    or_(_R.basis_ends_at.is_(None), _R.basis_ends_at > func.now()),
)
_AS_FORMER_LEAD = exists().where(_R.case_id == _C.id, _TRANSFERRED_BY_READER).correlate(CASES_TABLE)
# The grant beyond the lead's, from one pass over the reader's agency's referrals of
# the case, in a LATERAL subquery. For the lead (the common case) the pass does not
# run at all: its condition `NOT lead` depends on the case row only, so PostgreSQL
# gates the scan with a one-time filter, and the statement touches the same tables
# as the case read did before participants existed.
_GRANT = (
    select(
        func.coalesce(func.bool_or(_TRANSFERRED_BY_READER), false()).label("grant_former_lead"),
        func.json_agg(
            func.json_build_object(
                "referral_id",
                _R.id,
                "role",
                _R.purpose,
                "services",
                _R.services,
                "shared_fields",
                _R.shared_fields,
            )
        )
        .filter(_PARTICIPATING)
        .label("grant_participations"),
    )
    .select_from(_REFERRALS)
    .where(
        _R.case_id == _C.id,
        ~_LEAD,
        or_(_R.to_agency_id == _READER_AGENCY, _R.from_agency_id == _READER_AGENCY),
    )
    .correlate(CASES_TABLE)
    .lateral("case_grant")
)
# The reader's own break-glass on the case, unexpired and unrevoked: one probe of
# `ix_break_glass_user_case_expires`, gated like the referrals' pass (not for the lead).
_B = _BREAK_GLASS.c
_BREAK_GLASS_GRANT = (
    select(_B.id.label("grant_break_glass"))
    .where(
        _B.user_id == _READER,
        _B.case_id == _C.id,
        _B.expires_at > func.now(),
        _B.revoked_at.is_(None),
        ~_LEAD,
    )
    .order_by(_B.expires_at.desc())
    .limit(1)
    .correlate(CASES_TABLE)
    .lateral("case_break_glass")
)
_BY_BREAK_GLASS = _BREAK_GLASS_GRANT.c.grant_break_glass
_GRANT_COLUMNS = (_LEAD.label("grant_lead"), *_GRANT.c, _BY_BREAK_GLASS)
_GRANTED_FROM = CASES_TABLE.join(_GRANT, true()).outerjoin(_BREAK_GLASS_GRANT, true())
# Work on a case also needs the reader's agency functions (reads never do).
_FUNCTIONS = (
    select(_KINDS.c.functions).where(_KINDS.c.code == _READER_KIND).scalar_subquery()
).label("grant_functions")
# Lead, former lead or break-glass: reads the whole case (its persons are joined).
SEES_WHOLE_CASE = or_(
    _AS_LEAD, _AS_ASSIGNEE, _GRANT.c.grant_former_lead, _BY_BREAK_GLASS.is_not(None)
)
_REACHED = or_(SEES_WHOLE_CASE, _GRANT.c.grant_participations.is_not(None))
_CASE_ID = bindparam("case_id", type_=Uuid())

# The ORM form, for work on one case (optionally locked).
_GRANTED_CASE = (
    select(Case, *_GRANT_COLUMNS, _FUNCTIONS)
    .select_from(_GRANTED_FROM)
    .where(col(Case.id) == _CASE_ID, _REACHED)
)
_GRANTED_CASE_FOR_UPDATE = _GRANTED_CASE.with_for_update(of=Case)
# The case, whether or not the reader reaches it, with the grant: for breaking the
# glass only.
_CASE_AND_GRANT = (
    select(Case, *_GRANT_COLUMNS, _FUNCTIONS, _REACHED.label("grant_reached"))
    .select_from(_GRANTED_FROM)
    .where(col(Case.id) == _CASE_ID)
)


@dataclass(frozen=True)
class CaseGrant:
    """What one principal holds on one case (module rules)."""

    lead: bool
    former_lead: bool
    participations: tuple[Participation, ...]
    functions: frozenset[str]
    # The reader's break-glass grant on the case, if one is open.
    break_glass_id: uuid.UUID | None = None

    @property
    def whole_case(self) -> bool:
        """Lead, former lead or break-glass: sees the whole case; otherwise only
        shared fields."""
        return self.lead or self.former_lead or self.break_glass_id is not None

    @property
    def via_break_glass(self) -> bool:
        """Reads the case whole only because of a break-glass grant (the read's audit
        row names it)."""
        return self.break_glass_id is not None and not (self.lead or self.former_lead)

    def break_glass_only(self) -> CaseGrant | None:
        """The grant of a principal without `cases:read`: its break-glass alone."""
        if self.break_glass_id is None:
            return None
        return CaseGrant(False, False, (), self.functions, self.break_glass_id)

    @property
    def shared_fields(self) -> frozenset[str]:
        return frozenset().union(*(p.shared_fields for p in self.participations))

    @property
    def roles(self) -> frozenset[ParticipantRole]:
        return frozenset(p.role for p in self.participations)

    def refusal(self, action: str) -> Refusal | None:
        return refusal(
            action,
            lead=self.lead,
            former_lead=self.former_lead,
            participations=self.participations,
            functions=self.functions,
            break_glass=self.break_glass_id is not None,
        )

    def referral_naming(self, service_type: str) -> Participation | None:
        """The participation whose referral names this service, if any."""
        return next((p for p in self.participations if service_type in p.services), None)

    @classmethod
    def from_row(cls, row: Any) -> CaseGrant:
        raw = row["grant_participations"]
        items = json.loads(raw) if isinstance(raw, str) else (raw or [])
        return cls(
            lead=bool(row["grant_lead"]),
            former_lead=bool(row["grant_former_lead"]),
            participations=tuple(
                Participation(
                    referral_id=str(item["referral_id"]),
                    role=ParticipantRole(item["role"]),
                    services=frozenset(item["services"] or ()),
                    shared_fields=frozenset(item["shared_fields"] or ()),
                )
                for item in items
            ),
            functions=frozenset(row.get("grant_functions") or ()),
            break_glass_id=row["grant_break_glass"],
        )


def reader(principal: Principal) -> dict[str, Any]:
    """The bound parameters of the access statements for this principal."""
    return {
        "reader_agency_id": principal.agency_id,
        "reader_id": principal.actor_id,
        "reader_kind": principal.agency_kind,
    }


def readable_rows() -> Select[Any]:
    """The cases a principal reads whole (lead, assignee, former lead), selecting the
    case's columns, for lists and search run on the driver (bound parameters:
    `reader(principal)`); the caller gives no rows to a principal without
    `cases:read`."""
    return select(*CASES_TABLE.c).where(or_(_AS_LEAD, _AS_ASSIGNEE, _AS_FORMER_LEAD))


def readable_cases(principal: Principal) -> Select[Any]:
    """The ORM form of `readable_rows` (no rows without `cases:read`)."""
    if not principal.can(Permission.CASES_READ):
        return select(Case).where(false())
    return (
        select(Case).where(or_(_AS_LEAD, _AS_ASSIGNEE, _AS_FORMER_LEAD)).params(reader(principal))
    )


def granted_by_id() -> Select[Any]:
    """One case with the reader's grant columns, if the reader reaches it at all
    (bound parameters: `reader(principal)` and `case_id`), for the case read on the
    driver; read the grant with `CaseGrant.from_row`."""
    return (
        select(*CASES_TABLE.c, *_GRANT_COLUMNS)
        .select_from(_GRANTED_FROM)
        .where(_C.id == _CASE_ID, _REACHED)
    )


class AgencyFunctionRequired(DeniedForbidden):
    """403: the caller reaches the case, but their agency's kind may not perform this
    function (DOMAIN.md, agency kinds). The refusal commits its audit row."""

    slug = "agency-function-required"
    title_en, title_vi = (
        "Your agency may not perform this function",
        "Cơ quan của bạn không có chức năng này",
    )


class CaseRoleRequired(DeniedForbidden):
    """403: the caller's agency takes part in the case, but not in a role that allows
    this (or only the lead may do it). The refusal commits its audit row."""

    slug = "case-role-required"
    title_en, title_vi = (
        "Your agency's part in this case does not allow this",
        "Vai trò của cơ quan bạn trong vụ việc không cho phép thao tác này",
    )


async def refuse(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, action: str, why: Refusal
) -> DeniedForbidden:
    """Record the refusal and return the 403 to raise."""
    await audit.record(
        session,
        action=action,
        resource_type="case",
        resource_id=case_id,
        principal=principal,
        outcome="denied",
        reason=why.reason,
    )
    if why.function is not None:
        return AgencyFunctionRequired(why.message)
    if why.reason in ("read_only_after_transfer", "break_glass_read_only"):
        return DeniedForbidden(why.message)
    return CaseRoleRequired(why.message)


async def check(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, grant: CaseGrant, action: str
) -> None:
    """Raise the audited 403 unless `grant` allows `action`."""
    why = grant.refusal(action)
    if why is not None:
        raise await refuse(session, principal, case_id, action, why)


def _may_reach(principal: Principal) -> bool:
    """Whether the access statements run at all for this principal."""
    return principal.can(Permission.CASES_READ) or principal.can(Permission.CASES_BREAK_GLASS)


def _grant_of(principal: Principal, row: Any) -> CaseGrant | None:
    """The principal's grant from a row of the access statements (module rules)."""
    grant = CaseGrant.from_row(row)
    return grant if principal.can(Permission.CASES_READ) else grant.break_glass_only()


async def granted_rows(
    session: AsyncSession,
    principal: Principal,
    statement: DriverStatement,
    case_id: uuid.UUID,
    *,
    action: str,
) -> tuple[list[Record], CaseGrant]:
    """The rows of `statement` (built on `granted_by_id()`) and the grant, or 404 (a
    denied audit event for an existing case); 403 when the grant lacks `action`."""
    rows: list[Record] = []
    if _may_reach(principal):
        rows = await statement.fetch(session, {**reader(principal), "case_id": case_id})
    grant = _grant_of(principal, rows[0]) if rows else None
    if grant is None:
        raise await out_of_reach(
            session, principal, col(Case.id), case_id, resource_type="case", action=action
        )
    await check(session, principal, case_id, grant, action)
    return rows, grant


@dataclass(frozen=True)
class GrantedCase:
    case: Case
    grant: CaseGrant


async def get_granted_case(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    action: str,
    for_update: bool = False,
) -> GrantedCase:
    """The case and the principal's grant on it, or 404 (module rules); 403, audited,
    when the grant does not allow `action`."""
    found = None
    if _may_reach(principal):
        statement = _GRANTED_CASE_FOR_UPDATE if for_update else _GRANTED_CASE
        params = {**reader(principal), "case_id": case_id}
        found = (await session.execute(statement, params)).one_or_none()
    grant = _grant_of(principal, found._mapping) if found is not None else None
    if found is None or grant is None:
        raise await out_of_reach(
            session, principal, col(Case.id), case_id, resource_type="case", action=action
        )
    granted = GrantedCase(case=found[0], grant=grant)
    await check(session, principal, case_id, granted.grant, action)
    return granted


async def case_and_grant(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> tuple[Case, CaseGrant | None] | None:
    """For breaking the glass only: the case whether or not the principal reaches it,
    with its grant (None when it reaches nothing), or None when no case has this id.
    Nothing is recorded here; the caller audits."""
    params = {**reader(principal), "case_id": case_id}
    found = (await session.execute(_CASE_AND_GRANT, params)).one_or_none()
    if found is None:
        return None
    reached = found._mapping["grant_reached"]
    return found[0], _grant_of(principal, found._mapping) if reached else None


async def get_readable_case(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    action: str = "case.read",
    for_update: bool = False,
) -> Case:
    """`get_granted_case` for a caller that needs only the case."""
    granted = await get_granted_case(
        session, principal, case_id, action=action, for_update=for_update
    )
    return granted.case
