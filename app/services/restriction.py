"""Restriction of processing (Law 91/2025), on the person's request: once a
`restriction` request is completed (`app.services.data_requests`), the person's
identity is revealed to supervisors only. Anyone else asking to reveal it gets 403
(`person-restricted`), audited as denied with the reason `person_restricted`; a
supervisor's reveal carries its purpose of use like any other and is audited."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.errors import DeniedForbidden
from app.models import CasePerson, Person
from app.security.permissions import Role
from app.security.principal import Principal

REASON = "person_restricted"


class PersonRestricted(DeniedForbidden):
    slug = "person-restricted"
    title_en, title_vi = (
        "Processing of this person's data is restricted",
        "Việc xử lý dữ liệu của người này đang bị hạn chế",
    )


async def check_reveal(
    session: AsyncSession,
    principal: Principal,
    person_ids: Collection[uuid.UUID],
    *,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID,
    purpose: str | None,
    case_id: uuid.UUID | None = None,
) -> None:
    """403, audited, when a person among `person_ids` (or of the case `case_id`) is
    restricted and the caller is not a supervisor."""
    if principal.role == Role.SUPERVISOR or not (person_ids or case_id):
        return
    among: ColumnElement[bool] = col(Person.id).in_(list(person_ids))
    if case_id is not None:
        of_case = select(col(CasePerson.person_id)).where(col(CasePerson.case_id) == case_id)
        among = or_(among, col(Person.id).in_(of_case))
    restricted = (
        await session.execute(
            select(col(Person.id)).where(among, col(Person.restricted_at).is_not(None)).limit(1)
        )
    ).scalar_one_or_none()
    if restricted is None:
        return
    await audit.record(
        session,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        principal=principal,
        person_id=restricted,
        purpose=purpose,
        outcome="denied",
        reason=REASON,
    )
    raise PersonRestricted(
        "This person asked to restrict the processing of their data: only a supervisor "
        "may reveal their identity."
    )
