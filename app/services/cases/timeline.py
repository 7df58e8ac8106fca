"""Appending to a case's timeline: every feature that changes a case calls `append`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CaseTimelineEntry
from app.security.principal import Principal


async def append(
    session: AsyncSession,
    case_id: uuid.UUID,
    kind: str,
    *,
    principal: Principal | None,
    ref_type: str | None = None,
    ref_id: uuid.UUID | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: str | None = None,
    note: bytes | None = None,
    entry_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> CaseTimelineEntry:
    """`detail` is a code written by the program; `note` is ciphertext (see the
    model). Pass `entry_id` when the note was encrypted for that id, and `occurred_at`
    when the step happened before now (recorded after the fact)."""
    entry = CaseTimelineEntry(
        id=entry_id or uuid.uuid4(),
        case_id=case_id,
        kind=kind,
        actor_id=principal.actor_id if principal else None,
        actor_agency_id=principal.agency_id if principal else None,
        ref_type=ref_type,
        ref_id=ref_id,
        from_status=from_status,
        to_status=to_status,
        detail=detail,
        note=note,
    )
    if occurred_at is not None:
        entry.occurred_at = occurred_at
    session.add(entry)
    await session.flush()
    return entry
