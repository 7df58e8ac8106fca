"""Who reaches which case: the one access-filtered statement every case query starts
from (STYLE.md rule 3).

A case is visible to its owning agency's case workers and supervisors, to the user it
is assigned to, and, read only, to an agency that transferred it to another (an
accepted or completed `transfer` referral from that agency): it keeps reading what it
created, and any write is 403 "read only after transfer". A referral's receiver gets
no case-level access: it reads only the shared fields, through the referral
(`app.services.referrals`). Everyone else gets 404, exactly as for a case that does
not exist; an attempt on an existing case out of reach is recorded as a denied audit
event.
"""

from __future__ import annotations

import uuid
from typing import Any

from asyncpg import Record
from sqlalchemy import Select, Uuid, bindparam, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.driver import DriverStatement
from app.errors import DeniedForbidden
from app.models import Case, Referral
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.reach import out_of_reach

CASES_TABLE = Case.metadata.tables[Case.__tablename__]
# The access rule, written once with the reader as bound parameters: built and
# compiled once per process, and every case query is derived from it.
_READER_AGENCY = bindparam("reader_agency_id", type_=Uuid())
_READER = bindparam("reader_id", type_=Uuid())
_READABLE = select(Case).where(
    or_(
        col(Case.owner_agency_id) == _READER_AGENCY,
        col(Case.assigned_to) == _READER,
        # The case was handed over by the reader's agency through a transfer.
        exists().where(
            col(Referral.case_id) == col(Case.id),
            col(Referral.from_agency_id) == _READER_AGENCY,
            col(Referral.purpose) == "transfer",
            # Two comparisons, not IN: an IN list is re-rendered on every execution.
            or_(col(Referral.status) == "accepted", col(Referral.status) == "completed"),
        ),
    )
)
_READABLE_BY_ID = _READABLE.where(col(Case.id) == bindparam("case_id"))
_READABLE_BY_ID_FOR_UPDATE = _READABLE_BY_ID.with_for_update()


def reader(principal: Principal) -> dict[str, uuid.UUID]:
    """The bound parameters of `_READABLE` for this principal."""
    return {"reader_agency_id": principal.agency_id, "reader_id": principal.actor_id}


def readable_cases(principal: Principal) -> Select[Any]:
    """SELECT of the cases this principal may read (no rows for roles without
    `cases:read`, such as the system administrator or an auditor)."""
    if not principal.can(Permission.CASES_READ):
        return select(Case).where(false())
    return _READABLE.params(reader(principal))


def readable_rows() -> Select[Any]:
    """The access rule selecting the case's columns (bound parameters: the reader's,
    `reader(principal)`), for a statement built once and run on the driver; the caller
    returns 404 or an empty answer when the principal may not read cases at all."""
    return _READABLE.with_only_columns(*CASES_TABLE.c)


def readable_by_id() -> Select[Any]:
    """The access rule narrowed to one case, selecting the case's columns (bound
    parameters: the reader's, and `case_id`), for a read that selects more beside the
    case and runs on the driver (`readable_case_rows`)."""
    return _READABLE_BY_ID.with_only_columns(*CASES_TABLE.c)


async def readable_case_rows(
    session: AsyncSession,
    principal: Principal,
    statement: DriverStatement,
    case_id: uuid.UUID,
    *,
    action: str,
) -> list[Record]:
    """The rows of `statement`, built on `readable_by_id()`, or 404: a case that exists
    but is out of reach answers the same 404 and leaves a denied audit event
    (`action`, reason `out_of_reach`)."""
    rows: list[Record] = []
    if principal.can(Permission.CASES_READ):
        rows = await statement.fetch(session, {**reader(principal), "case_id": case_id})
    if not rows:
        raise await out_of_reach(
            session, principal, col(Case.id), case_id, resource_type="case", action=action
        )
    return rows


# Actions that only read; any other action on a case is a write (deny by default).
_READ_VERBS = frozenset({"read", "list", "reveal", "search", "access_log"})


def _is_write(action: str, for_update: bool) -> bool:
    return for_update or action.rsplit(".", 1)[-1] not in _READ_VERBS


async def get_readable_case(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    action: str = "case.read",
    for_update: bool = False,
) -> Case:
    """The case, or 404. A case that exists but is out of reach answers the same 404
    and leaves a denied audit event (`action`, reason `out_of_reach`). A write (an
    `action` whose verb is not a read one, or `for_update`) by an agency that only
    reads the case since transferring it is 403, reason `read_only_after_transfer`."""
    case: Case | None = None
    if principal.can(Permission.CASES_READ):
        statement = _READABLE_BY_ID_FOR_UPDATE if for_update else _READABLE_BY_ID
        params = {**reader(principal), "case_id": case_id}
        case = (await session.execute(statement, params)).scalar_one_or_none()
    if case is None:
        raise await out_of_reach(
            session, principal, col(Case.id), case_id, resource_type="case", action=action
        )
    reaches_as_owner = (
        case.owner_agency_id == principal.agency_id or case.assigned_to == principal.actor_id
    )
    if not reaches_as_owner and _is_write(action, for_update):
        await audit.record(
            session,
            action=action,
            resource_type="case",
            resource_id=case.id,
            principal=principal,
            outcome="denied",
            reason="read_only_after_transfer",
        )
        raise DeniedForbidden("Read only after transfer: the case now belongs to another agency.")
    return case
