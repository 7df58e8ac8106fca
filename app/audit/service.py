"""Reading the audit trail: the auditors' list, a record's access log, verification.

Rules:
- The list is for holders of `audit:read` (auditors), across all agencies: audit is
  oversight. Events carry no identity values, so there is nothing to mask.
- `access_log()` is for the module that owns a record (cases): that module has
  already answered 404 for a record out of the caller's reach; here the caller needs
  `cases:access_log` (supervisors) or `audit:read`.
- Every read here is itself audited: `audit_event.list`, `<type>.access_log`,
  `audit_chain.verify` (reason `chain_broken` when tampering is found),
  `audit_checkpoint.list`.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.audit import worker
from app.audit.chain import event_columns
from app.audit.checkpoints import Checkpoint
from app.audit.verify import VerifyReport, verify
from app.audit.writer import record
from app.errors import DeniedForbidden, ValidationFailed
from app.models.audit import AuditCheckpoint, AuditEvent, AuditSeal
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.pagination import PageParams


@dataclass(frozen=True)
class EventFilters:
    actor_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    action: str | None = None
    from_: datetime | None = None
    to: datetime | None = None


def _encode(occurred_at: datetime, event_id: int) -> str:
    raw = json.dumps([occurred_at.isoformat(), event_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        occurred, event_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(occurred), int(event_id)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed([{"field": "cursor", "message": "invalid cursor"}]) from exc


def _events() -> Select[Any]:
    return select(
        *event_columns(),
        col(AuditSeal.chain_seq).label("seq"),
        col(AuditSeal.prev_hash),
        col(AuditSeal.hash),
    ).outerjoin(AuditSeal, col(AuditSeal.event_id) == col(AuditEvent.id))


async def _page(
    session: AsyncSession, statement: Select[Any], params: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, keyset on (occurred_at, id), which the primary key orders."""
    position = tuple_(col(AuditEvent.occurred_at), col(AuditEvent.id))
    if params.cursor:
        statement = statement.where(position < tuple_(*_decode(params.cursor)))
    statement = statement.order_by(
        col(AuditEvent.occurred_at).desc(), col(AuditEvent.id).desc()
    ).limit(params.limit + 1)
    rows = [dict(r) for r in (await session.execute(statement)).mappings()]
    for row in rows:
        for name in ("prev_hash", "hash"):
            row[name] = row[name].hex() if row[name] is not None else None
    if len(rows) <= params.limit:
        return rows, None
    kept = rows[: params.limit]
    return kept, _encode(kept[-1]["occurred_at"], kept[-1]["id"])


async def list_events(
    session: AsyncSession, principal: Principal, filters: EventFilters, params: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    conditions = []
    if filters.actor_id:
        conditions.append(col(AuditEvent.actor_id) == filters.actor_id)
    if filters.agency_id:
        conditions.append(col(AuditEvent.actor_agency_id) == filters.agency_id)
    if filters.resource_type:
        conditions.append(col(AuditEvent.resource_type) == filters.resource_type)
    if filters.resource_id:
        conditions.append(col(AuditEvent.resource_id) == filters.resource_id)
    if filters.action:
        conditions.append(col(AuditEvent.action) == filters.action)
    if filters.from_:
        conditions.append(col(AuditEvent.occurred_at) >= filters.from_)
    if filters.to:
        conditions.append(col(AuditEvent.occurred_at) < filters.to)
    page = await _page(session, _events().where(and_(True, *conditions)), params)
    await record(
        session, action="audit_event.list", resource_type="audit_event", principal=principal
    )
    return page


async def access_log(
    session: AsyncSession,
    principal: Principal,
    resource_type: str,
    resource_id: uuid.UUID | str,
    params: PageParams,
) -> tuple[list[dict[str, Any]], str | None]:
    """Who read or changed one record, newest first (see the module rules)."""
    action = f"{resource_type}.access_log"
    if not (principal.can(Permission.CASES_ACCESS_LOG) or principal.can(Permission.AUDIT_READ)):
        await record(
            session,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            principal=principal,
            outcome="denied",
            reason="missing_permission:cases:access_log",
        )
        raise DeniedForbidden("This action needs the 'cases:access_log' permission.")
    statement = _events().where(
        col(AuditEvent.resource_type) == resource_type,
        col(AuditEvent.resource_id) == str(resource_id),
    )
    page = await _page(session, statement, params)
    await record(
        session,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        principal=principal,
    )
    return page


async def verify_chain(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: KeyProvider,
    principal: Principal,
    *,
    from_checkpoint: bool,
) -> VerifyReport:
    """Seal what has committed (own transaction), then verify and record the check."""
    await worker.seal_round(sessionmaker, keys, wait=True, checkpoint_interval=None)
    report = await verify(session, keys, from_checkpoint=from_checkpoint)
    await record(
        session,
        action="audit_chain.verify",
        resource_type="audit_chain",
        resource_id=None if report.ok else str(report.first_bad_seq),
        principal=principal,
        reason=None if report.ok else "chain_broken",
    )
    return report


async def list_checkpoints(
    session: AsyncSession, principal: Principal, keys: KeyProvider, params: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """Oldest first (an archive appends), cursor = the last chain_seq returned."""
    statement = select(AuditCheckpoint).order_by(col(AuditCheckpoint.chain_seq))
    if params.cursor:
        try:
            after = int(params.cursor)
        except ValueError as exc:
            raise ValidationFailed([{"field": "cursor", "message": "invalid cursor"}]) from exc
        statement = statement.where(col(AuditCheckpoint.chain_seq) > after)
    rows = list((await session.execute(statement.limit(params.limit + 1))).scalars())
    public = keys.audit_signing_key().public_key()
    items = [Checkpoint.from_row(r).to_export(public) for r in rows[: params.limit]]
    await record(
        session,
        action="audit_checkpoint.list",
        resource_type="audit_checkpoint",
        principal=principal,
    )
    cursor = str(items[-1]["chain_seq"]) if len(rows) > params.limit else None
    return items, cursor
