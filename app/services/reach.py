"""Loading one record through an access-filtered statement: the record, or 404.

Rule: a record out of the caller's reach answers exactly like one that does not exist
(404, never 403); when it does exist, the attempt is recorded as a denied audit event
(`action`, reason `out_of_reach`) and that row commits although the request fails.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.errors import DeniedNotFound, NotFound
from app.security.principal import Principal


async def load_readable(
    session: AsyncSession,
    principal: Principal,
    readable: Select[Any],
    id_column: Any,
    record_id: uuid.UUID,
    *,
    resource_type: str,
    action: str,
    for_update: bool = False,
) -> Any:
    statement = readable.where(id_column == record_id)
    if for_update:
        statement = statement.with_for_update()
    found = (await session.execute(statement)).scalar_one_or_none()
    if found is not None:
        return found
    raise await out_of_reach(
        session, principal, id_column, record_id, resource_type=resource_type, action=action
    )


async def out_of_reach(
    session: AsyncSession,
    principal: Principal,
    id_column: Any,
    record_id: uuid.UUID,
    *,
    resource_type: str,
    action: str,
) -> NotFound:
    """The 404 to raise for a record the access-filtered statement did not return;
    when the record exists, the attempt is recorded first (module rule)."""
    exists = (await session.execute(select(id_column).where(id_column == record_id))).first()
    if exists is None:
        return NotFound()
    await audit.record(
        session,
        action=action,
        resource_type=resource_type,
        resource_id=record_id,
        principal=principal,
        outcome="denied",
        reason="out_of_reach",
    )
    return DeniedNotFound()
