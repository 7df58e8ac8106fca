"""The transactional outbox: events are written in the same transaction as the change
they announce, so an event whose transaction rolls back is never sent.

`emit` inserts one `webhook_events` row per receiving agency that has an active
endpoint subscribed to the type, and one pending `webhook_deliveries` row per such
endpoint;
the delivery worker (`app.services.webhooks.delivery`) picks them up once committed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import any_, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.webhook import (
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
        event_id = uuid.uuid4()
        payload = {
            "type": kind.value,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": checked,
        }
        await session.execute(
            insert(WebhookEvent).values(
                id=event_id, event_type=kind.value, agency_id=agency_id, payload=payload
            )
        )
        await session.execute(
            insert(WebhookDelivery),
            [
                {
                    "id": uuid.uuid4(),
                    "event_id": event_id,
                    "endpoint_id": endpoint_id,
                    "status": DeliveryStatus.PENDING.value,
                    "attempt_count": 0,
                    "next_attempt_at": now,
                }
                for endpoint_id in endpoint_ids
            ],
        )
