"""The register of personal-data incidents (Law 91/2025) and their notifications.

Rules:
- Who: `incidents:manage` (system and agency administrators) records incidents and
  notifications; `incidents:read` (the same, and auditors) lists them. An agency
  administrator reaches only their own agency's incidents (another agency's answers
  404, audited as denied); system administrators (whose incidents are the national
  agency's) and auditors reach every agency's.
- `notify_by` = `detected_at` + `VCM_INCIDENT_NOTIFY_HOURS` (72 by default: the
  figure of the decree's draft, not yet confirmed), fixed when the incident is
  recorded. `detected_at` may not be in the future, nor a notification's
  `notified_at` in the future or before the detection (422).
- Overdue: `notify_by` passed with no notification to the `authority` recorded
  (a notification of the `persons` does not count). `?overdue=true` lists those,
  `false` the rest. The worker's sweep (`announce_overdue`) sends the webhook event
  `incident.overdue` to the agency once per incident, audited by the system.
- The description may name people but no one person's key fits it: it is sealed
  under the incident's own data key, wrapped by the key ring's KEK and bound to the
  incident's id (like webhook secrets). The answer to the create shows it as written.
- Audited: `incident.create`, `incident.list` (one per page), `incident.notify`,
  `incident.overdue` (the sweep).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.incidents import Nature, Recipient, Severity, key_context
from app.errors import ValidationFailed
from app.models.incident import Incident, IncidentNotification
from app.schemas.incidents import (
    IncidentCreate,
    IncidentPublic,
    NotificationCreate,
    NotificationPublic,
)
from app.security.crypto import DataKey, FieldContext, new_data_key
from app.security.keyring import KeyProvider, WrappedKey
from app.security.permissions import Role
from app.security.principal import Principal
from app.services.pagination import PageParams, page_of, paginate
from app.services.reach import load_readable
from app.services.vault import rotation_barrier_shared
from app.services.webhooks.outbox import emit

RESOURCE = "incident"
# Roles that reach every agency's incidents.
_NATIONAL = frozenset({Role.SYSTEM_ADMIN, Role.AUDITOR})


def _field(incident_id: uuid.UUID) -> FieldContext:
    return FieldContext(
        table="incidents", column="description", row_id=incident_id, person_id=incident_id
    )


def _open_description(keys: KeyProvider, row: Incident) -> str:
    wrapped = WrappedKey(kek_version=row.description_kek_version, blob=row.description_key_wrapped)
    key = DataKey(key_id=row.id, key=keys.unwrap_dek(wrapped, context=key_context(row.id)))
    return str(key.decrypt_str(row.description, _field(row.id)))


def _authority_notified() -> Any:
    return exists().where(
        col(IncidentNotification.incident_id) == col(Incident.id),
        col(IncidentNotification.recipient) == Recipient.AUTHORITY.value,
    )


def _is_overdue(row: Incident, notes: list[IncidentNotification], now: datetime) -> bool:
    told = any(n.recipient == Recipient.AUTHORITY.value for n in notes)
    return not told and row.notify_by <= now


def _public(
    row: Incident, notes: list[IncidentNotification], description: str | None, now: datetime
) -> IncidentPublic:
    return IncidentPublic(
        id=row.id,
        agency_id=row.agency_id,
        detected_at=row.detected_at,
        nature=Nature(row.nature),
        severity=Severity(row.severity),
        persons_affected=row.persons_affected,
        description=description,
        notify_by=row.notify_by,
        overdue=_is_overdue(row, notes, now),
        notifications=[
            NotificationPublic(
                id=n.id,
                recipient=Recipient(n.recipient),
                notified_at=n.notified_at,
                recorded_by=n.recorded_by,
                created_at=n.created_at,
            )
            for n in sorted(notes, key=lambda n: (n.notified_at, n.id))
        ],
        created_at=row.created_at,
        created_by=row.created_by,
    )


def readable_incidents(principal: Principal) -> Select[Any]:
    """Every query on incidents starts here (module rules: own agency, or all)."""
    statement: Select[Any] = select(Incident)
    if principal.role not in _NATIONAL:
        statement = statement.where(col(Incident.agency_id) == principal.agency_id)
    return statement


async def _notifications(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[IncidentNotification]]:
    found: dict[uuid.UUID, list[IncidentNotification]] = {i: [] for i in ids}
    if ids:
        rows = await session.execute(
            select(IncidentNotification).where(col(IncidentNotification.incident_id).in_(ids))
        )
        for note in rows.scalars():
            found[note.incident_id].append(note)
    return found


def _not_future(field: str, value: datetime, now: datetime) -> None:
    if value > now + timedelta(minutes=5):
        raise ValidationFailed([{"field": field, "message": "must not be in the future"}])


async def create_incident(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    body: IncidentCreate,
    *,
    notify_hours: int,
) -> IncidentPublic:
    """Record an incident of the caller's agency (module rules)."""
    now = datetime.now(UTC)
    _not_future("detected_at", body.detected_at, now)
    row_id = uuid.uuid4()
    key = DataKey(key_id=row_id, key=new_data_key())
    # Wrapped inside the rotation barrier, as every DEK is (`app.services.key_rotation`).
    await rotation_barrier_shared(session)
    wrapped = keys.wrap_dek(key.key, context=key_context(row_id))
    row = Incident(
        id=row_id,
        agency_id=principal.agency_id,
        detected_at=body.detected_at,
        nature=body.nature.value,
        severity=body.severity.value,
        persons_affected=body.persons_affected,
        description=key.encrypt(body.description, _field(row_id)),
        description_kek_version=wrapped.kek_version,
        description_key_wrapped=wrapped.blob,
        notify_by=body.detected_at + timedelta(hours=notify_hours),
        created_at=now,
        created_by=principal.actor_id,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        action=f"{RESOURCE}.create",
        resource_type=RESOURCE,
        resource_id=row.id,
        principal=principal,
        fields=("detected_at", "nature", "severity", "persons_affected", "description"),
        reason=f"severity:{row.severity}",
    )
    return _public(row, [], body.description, now)


async def list_incidents(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    params: PageParams,
    *,
    overdue: bool | None,
) -> tuple[list[IncidentPublic], str | None]:
    """Incidents the caller reaches, newest first, with their descriptions."""
    now = datetime.now(UTC)
    statement = readable_incidents(principal)
    if overdue is not None:
        late = and_(col(Incident.notify_by) <= now, not_(_authority_notified()))
        statement = statement.where(late if overdue else not_(late))
    statement = paginate(statement, params, col(Incident.created_at), col(Incident.id))
    rows = list((await session.execute(statement)).scalars())
    kept, cursor = page_of(rows, params, lambda r: (r.created_at, r.id))
    notes = await _notifications(session, [r.id for r in kept])
    items = [_public(r, notes[r.id], _open_description(keys, r), now) for r in kept]
    await audit.record(
        session,
        action=f"{RESOURCE}.list",
        resource_type=RESOURCE,
        principal=principal,
        fields=("description",),
        reason=None if overdue is None else f"overdue:{str(overdue).lower()}",
    )
    return items, cursor


async def notify(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    incident_id: uuid.UUID,
    body: NotificationCreate,
) -> IncidentPublic:
    """Record a notification made about an incident (module rules)."""
    now = datetime.now(UTC)
    row: Incident = await load_readable(
        session,
        principal,
        readable_incidents(principal),
        col(Incident.id),
        incident_id,
        resource_type=RESOURCE,
        action=f"{RESOURCE}.notify",
        for_update=True,
    )
    _not_future("notified_at", body.notified_at, now)
    if body.notified_at < row.detected_at:
        raise ValidationFailed(
            [{"field": "notified_at", "message": "must not be before detected_at"}]
        )
    session.add(
        IncidentNotification(
            incident_id=row.id,
            recipient=body.recipient.value,
            notified_at=body.notified_at,
            recorded_by=principal.actor_id,
            created_at=now,
        )
    )
    await session.flush()
    await audit.record(
        session,
        action=f"{RESOURCE}.notify",
        resource_type=RESOURCE,
        resource_id=row.id,
        principal=principal,
        fields=("recipient", "notified_at"),
        reason=f"recipient:{body.recipient.value}",
    )
    notes = (await _notifications(session, [row.id]))[row.id]
    return _public(row, notes, _open_description(keys, row), now)


async def announce_overdue(session: AsyncSession, now: datetime, *, batch_size: int = 500) -> int:
    """Send `incident.overdue` for each incident whose deadline passed without a
    notification to the authority, once each; returns how many. The caller commits;
    the worker calls this periodically."""
    statement = (
        select(Incident)
        .where(
            col(Incident.overdue_announced_at).is_(None),
            col(Incident.notify_by) <= now,
            not_(_authority_notified()),
        )
        .order_by(col(Incident.notify_by))
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(statement)).scalars())
    for row in rows:
        row.overdue_announced_at = now
        await session.flush()
        await emit(
            session,
            event_type="incident.overdue",
            agency_ids=[row.agency_id],
            data={
                "incident_id": str(row.id),
                "severity": row.severity,
                "notify_by": row.notify_by.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        await audit.record(
            session,
            action=f"{RESOURCE}.overdue",
            resource_type=RESOURCE,
            resource_id=row.id,
            fields=("overdue_announced_at",),
            reason="notify_by_passed",
        )
    return len(rows)


__all__ = ["announce_overdue", "create_incident", "list_incidents", "notify"]
