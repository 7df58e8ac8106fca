"""An endpoint's delivery log, redelivery and the test ping (its agency's admins).

Rules:
- the endpoint is reached as for its deactivation (`endpoints.readable_endpoints`):
  another agency's endpoint answers 404 with a denied audit row; a delivery is found
  only under its own endpoint (404 otherwise);
- the log lists every delivery of the endpoint, newest first, each with its event's
  type and id, its status and every attempt (time, HTTP status or error, duration); a
  deactivated endpoint's log stays readable;
- a redelivery queues a new delivery of the same event (same payload, same
  `webhook-id` for the receiver's deduplication) to the same active endpoint, due now;
  a delivery still pending is being retried already (409);
- a ping queues a `webhook.ping` event (the endpoint's id only) to that one active
  endpoint, whatever it subscribed to.

Audited: `webhook.delivery_list` (one per page), `webhook.delivery_read`,
`webhook.redeliver`, `webhook.ping`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.errors import Conflict, NotFound
from app.models.webhook import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from app.schemas.webhooks import WebhookAttemptPublic, WebhookDeliveryPublic
from app.security.principal import Principal
from app.services.pagination import PageParams, page_of, paginate
from app.services.reach import load_readable
from app.services.webhooks.endpoints import RESOURCE, readable_endpoints
from app.services.webhooks.outbox import queue_again, queue_for_endpoint


async def _endpoint(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: uuid.UUID,
    action: str,
    *,
    active: bool,
) -> WebhookEndpoint:
    endpoint: WebhookEndpoint = await load_readable(
        session,
        principal,
        readable_endpoints(principal),
        col(WebhookEndpoint.id),
        endpoint_id,
        resource_type=RESOURCE,
        action=action,
    )
    if active and not endpoint.is_active:
        raise NotFound()
    return endpoint


def _of_endpoint(endpoint: WebhookEndpoint) -> Any:
    """Every delivery of `endpoint`, with its event's type."""
    return (
        select(WebhookDelivery, col(WebhookEvent.event_type))
        .join(WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id))
        .where(col(WebhookDelivery.endpoint_id) == endpoint.id)
    )


async def _public(
    session: AsyncSession, rows: list[tuple[WebhookDelivery, str]]
) -> list[WebhookDeliveryPublic]:
    attempts: defaultdict[uuid.UUID, list[WebhookAttemptPublic]] = defaultdict(list)
    if rows:
        found = (
            await session.execute(
                select(WebhookAttempt)
                .where(col(WebhookAttempt.delivery_id).in_([d.id for d, _ in rows]))
                .order_by(col(WebhookAttempt.attempted_at), col(WebhookAttempt.id))
            )
        ).scalars()
        for attempt in found:
            attempts[attempt.delivery_id].append(
                WebhookAttemptPublic.model_validate(attempt, from_attributes=True)
            )
    return [
        WebhookDeliveryPublic(
            id=d.id,
            webhook_id=d.endpoint_id,
            event_id=d.event_id,
            event_type=event_type,
            status=DeliveryStatus(d.status),
            attempt_count=d.attempt_count,
            next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.PENDING else None,
            delivered_at=d.delivered_at,
            redelivery_of=d.redelivery_of_id,
            created_at=d.created_at,
            attempts=attempts[d.id],
        )
        for d, event_type in rows
    ]


async def list_deliveries(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, params: PageParams
) -> tuple[list[WebhookDeliveryPublic], str | None]:
    action = f"{RESOURCE}.delivery_list"
    endpoint = await _endpoint(session, principal, endpoint_id, action, active=False)
    statement = _of_endpoint(endpoint)
    rows = [
        (d, t)
        for d, t in (
            await session.execute(
                paginate(
                    statement, params, col(WebhookDelivery.created_at), col(WebhookDelivery.id)
                )
            )
        ).all()
    ]
    kept, cursor = page_of(rows, params, lambda r: (r[0].created_at, r[0].id))
    await audit.record(
        session, action=action, resource_type=RESOURCE, resource_id=endpoint.id, principal=principal
    )
    return await _public(session, kept), cursor


async def _delivery(
    session: AsyncSession, endpoint: WebhookEndpoint, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, str]:
    statement = _of_endpoint(endpoint).where(col(WebhookDelivery.id) == delivery_id)
    row = (await session.execute(statement)).first()
    if row is None:
        raise NotFound()
    delivery, event_type = row
    return delivery, event_type


async def read_delivery(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDeliveryPublic:
    action = f"{RESOURCE}.delivery_read"
    endpoint = await _endpoint(session, principal, endpoint_id, action, active=False)
    row = await _delivery(session, endpoint, delivery_id)
    await audit.record(
        session, action=action, resource_type=RESOURCE, resource_id=endpoint.id, principal=principal
    )
    [public] = await _public(session, [row])
    return public


async def redeliver(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDeliveryPublic:
    action = f"{RESOURCE}.redeliver"
    endpoint = await _endpoint(session, principal, endpoint_id, action, active=True)
    delivery, _ = await _delivery(session, endpoint, delivery_id)
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict("This delivery is still pending: it will be retried.")
    new_id = await queue_again(session, delivery)
    await audit.record(
        session, action=action, resource_type=RESOURCE, resource_id=endpoint.id, principal=principal
    )
    return await _queued(session, endpoint, new_id)


async def ping(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> WebhookDeliveryPublic:
    action = f"{RESOURCE}.ping"
    endpoint = await _endpoint(session, principal, endpoint_id, action, active=True)
    new_id = await queue_for_endpoint(
        session,
        endpoint,
        event_type=WebhookEventType.WEBHOOK_PING.value,
        data={"webhook_id": str(endpoint.id)},
    )
    await audit.record(
        session, action=action, resource_type=RESOURCE, resource_id=endpoint.id, principal=principal
    )
    return await _queued(session, endpoint, new_id)


async def _queued(
    session: AsyncSession, endpoint: WebhookEndpoint, delivery_id: uuid.UUID
) -> WebhookDeliveryPublic:
    [public] = await _public(session, [await _delivery(session, endpoint, delivery_id)])
    return public
