"""The transactional outbox: events are written in the same transaction as the change
they announce, so an event whose transaction rolls back is never sent.

`emit` inserts one `webhook_events` row per receiving agency that has an active
endpoint subscribed to the type, and one pending `webhook_deliveries` row per such
endpoint; `queue_for_endpoint` queues one event for one endpoint (the test ping) and
`queue_again` a redelivery. The delivery worker (`app.services.webhooks.delivery`)
picks them up once committed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import any_, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.webhook import (
    UNSUBSCRIBED_EVENTS,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)

# Payload values are ids and codes: a UUID, a status, a type. The character set alone
# keeps names, addresses and free text out (no spaces, no diacritics).
_DATA_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DATA_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# Keys that name identity fields are refused even when the value would pass.
_IDENTITY_KEYS = frozenset(
    {
        "name",
        "full_name",
        "date_of_birth",
        "dob",
        "birth_date",
        "phone",
        "phone_number",
        "email",
        "address",
        "national_id",
        "id_number",
        "passport_number",
        "sex",
        "ethnicity",
        "nationality",
    }
)


def _checked_data(data: Mapping[str, str]) -> dict[str, str]:
    """The payload's `data`, refused (ValueError: a programming error) unless every
    key is a field name that is no identity field and every value an id or a code."""
    checked: dict[str, str] = {}
    for key, value in data.items():
        if not _DATA_KEY.match(key) or key in _IDENTITY_KEYS:
            raise ValueError(f"webhook data key {key!r} is not allowed")
        if not isinstance(value, str | uuid.UUID) or not _DATA_VALUE.match(str(value)):
            raise ValueError(f"webhook data value of {key!r} must be an id or a code")
        checked[key] = str(value)
    return checked


async def emit(
    session: AsyncSession,
    *,
    event_type: str,
    agency_ids: Iterable[uuid.UUID],
    data: Mapping[str, str],
) -> None:
    """Queue `event_type` (e.g. `referral.created`) for every active webhook endpoint
    of each agency in `agency_ids` subscribed to it, in the caller's transaction.
    `data` holds ids and codes only (e.g. referral_id, case_id), never identity fields.

    Nothing is committed here: the rows commit or roll back with the caller's change.
    """
    kind = WebhookEventType(event_type)
    if kind in UNSUBSCRIBED_EVENTS:
        raise ValueError(f"{kind.value} is sent to one endpoint (queue_for_endpoint)")
    checked = _checked_data(data)
    now = datetime.now(UTC)
    for agency_id in dict.fromkeys(agency_ids):
        endpoint_ids = (
            (
                await session.execute(
                    select(col(WebhookEndpoint.id)).where(
                        col(WebhookEndpoint.agency_id) == agency_id,
                        col(WebhookEndpoint.is_active).is_(True),
                        literal(kind.value) == any_(col(WebhookEndpoint.events)),
                    )
                )
            )
            .scalars()
            .all()
        )
        if not endpoint_ids:
            continue  # nobody listens: no outbox row to carry forever
        event_id = await _insert_event(session, kind, agency_id, checked, now)
        await session.execute(
            insert(WebhookDelivery),
            [_pending(event_id, endpoint_id, now) for endpoint_id in endpoint_ids],
        )


async def queue_for_endpoint(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    *,
    event_type: str,
    data: Mapping[str, str],
) -> uuid.UUID:
    """Queue one event for `endpoint` alone, subscribed or not (the test ping); returns
    the new delivery's id. Same payload rules as `emit`."""
    kind = WebhookEventType(event_type)
    now = datetime.now(UTC)
    event_id = await _insert_event(session, kind, endpoint.agency_id, _checked_data(data), now)
    row = _pending(event_id, endpoint.id, now)
    await session.execute(insert(WebhookDelivery).values(**row))
    delivery_id: uuid.UUID = row["id"]
    return delivery_id


async def _insert_event(
    session: AsyncSession,
    kind: WebhookEventType,
    agency_id: uuid.UUID,
    data: dict[str, str],
    now: datetime,
) -> uuid.UUID:
    event_id = uuid.uuid4()
    payload = {
        "type": kind.value,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    await session.execute(
        insert(WebhookEvent).values(
            id=event_id, event_type=kind.value, agency_id=agency_id, payload=payload
        )
    )
    return event_id


def _pending(
    event_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    now: datetime,
    redelivery_of: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A new pending delivery row, due now."""
    return {
        "id": uuid.uuid4(),
        "event_id": event_id,
        "endpoint_id": endpoint_id,
        "redelivery_of_id": redelivery_of,
        "status": DeliveryStatus.PENDING.value,
        "attempt_count": 0,
        "next_attempt_at": now,
    }


async def queue_again(session: AsyncSession, delivery: WebhookDelivery) -> uuid.UUID:
    """A new pending delivery of `delivery`'s event to the same endpoint (a
    redelivery); returns its id. The event, its payload and its id (the receiver's
    `webhook-id`, for deduplication) stay the same."""
    row = _pending(delivery.event_id, delivery.endpoint_id, datetime.now(UTC), delivery.id)
    await session.execute(insert(WebhookDelivery).values(**row))
    delivery_id: uuid.UUID = row["id"]
    return delivery_id
