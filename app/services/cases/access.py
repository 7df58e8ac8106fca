"""Who reaches which case: the one access-filtered statement every case query starts
from (STYLE.md rule 3).

A case is visible to its owning agency's case workers and supervisors, to the user it
is assigned to, and (the referrals issue adds this) to agencies holding an accepted
referral. Everyone else gets 404, exactly as for a case that does not exist; an
attempt on an existing case out of reach is recorded as a denied audit event.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import Case
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.reach import load_readable


def readable_cases(principal: Principal) -> Select[Any]:
    """SELECT of the cases this principal may read (no rows for roles without
    `cases:read`, such as the system administrator or an auditor)."""
    statement = select(Case)
    if not principal.can(Permission.CASES_READ):
        return statement.where(false())
    return statement.where(
        or_(
            col(Case.owner_agency_id) == principal.agency_id,
            col(Case.assigned_to) == principal.actor_id,
        )
    )


async def get_readable_case(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    action: str = "case.read",
    for_update: bool = False,
) -> Case:
    """The case, or 404. A case that exists but is out of reach answers the same 404
    and leaves a denied audit event (`action`, reason `out_of_reach`)."""
    case: Case = await load_readable(
        session,
        principal,
        readable_cases(principal),
        col(Case.id),
        case_id,
        resource_type="case",
        action=action,
        for_update=for_update,
    )
    return case
