"""An agency's webhook endpoints: registered, listed and deactivated by its admin.

Rules:
- an agency administrator reaches only their own agency's endpoints; another
  agency's endpoint answers 404 and leaves a denied audit row (`reach.load_readable`);
- the URL passes the SSRF check (`app.security.ssrf`) at registration: https in
  production, every resolved address public (422 otherwise);
- the signing secret is shown once, in the answer to the registration, and stored
  only wrapped by the key ring's KEK, bound to the endpoint's id;
- DELETE deactivates: the row and its delivery history stay, pending deliveries stop.

Audited: `webhook.create`, `webhook.list` (one per page), `webhook.delete`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.config import Settings
from app.errors import NotFound, ValidationFailed
from app.models.base import utcnow
from app.models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.schemas.webhooks import WebhookEndpointCreate
from app.security import ssrf
from app.security.keyring import KeyProvider, WrappedKey
from app.security.principal import Principal
from app.services.pagination import PageParams, page_of, paginate
from app.services.reach import load_readable
from app.services.vault import rotation_barrier_shared
from app.services.webhooks import signing

RESOURCE = "webhook"
_SECRET_CONTEXT = b"vcm-webhook-secret|v1|"


def secret_context(endpoint_id: uuid.UUID) -> bytes:
    return _SECRET_CONTEXT + endpoint_id.bytes


def open_secret(keys: KeyProvider, endpoint: Any) -> bytes:
    """The raw signing key of an endpoint (row or row-like with id and secret columns)."""
    wrapped = WrappedKey(kek_version=endpoint.secret_kek_version, blob=endpoint.secret_wrapped)
    return keys.unwrap_dek(wrapped, context=secret_context(endpoint.id))


def readable_endpoints(principal: Principal) -> Select[Any]:
    """Every query on endpoints starts here: the caller's own agency only."""
    return select(WebhookEndpoint).where(col(WebhookEndpoint.agency_id) == principal.agency_id)


async def check_webhook_url(url: str, settings: Settings) -> None:
    """422 unless `url` may receive webhooks under `settings` (see `app.security.ssrf`)."""
    try:
        await ssrf.check_url(
            url,
            require_https=settings.is_production,
            allow_private=settings.webhook_allow_private,
        )
    except ssrf.UnsafeUrl as exc:
        raise ValidationFailed([{"field": "url", "message": exc.message}]) from exc


async def create_endpoint(
    session: AsyncSession,
    keys: KeyProvider,
    settings: Settings,
    principal: Principal,
    data: WebhookEndpointCreate,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of the caller's agency; returns it and its secret (the
    only time the secret leaves the service)."""
    await check_webhook_url(data.url, settings)
    if principal.agency_id is None:
        raise ValidationFailed([{"field": "agency", "message": "the caller has no agency"}])
    endpoint_id = uuid.uuid4()
    raw = signing.new_secret()
    # Wrapped under the current KEK version, inside the rotation barrier like a DEK, so
    # a rotation's rewrap pass cannot miss it (`app.services.key_rotation`).
    await rotation_barrier_shared(session)
    wrapped = keys.wrap_dek(raw, context=secret_context(endpoint_id))
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        agency_id=principal.agency_id,
        url=data.url,
        events=sorted({e.value for e in data.events}),
        description=data.description or None,
        secret_kek_version=wrapped.kek_version,
        secret_wrapped=wrapped.blob,
        created_by_id=principal.actor_id,
        created_by_type=principal.actor_type,
    )
    session.add(endpoint)
    await session.flush()
    await audit.record(
        session,
        action=f"{RESOURCE}.create",
        resource_type=RESOURCE,
        resource_id=endpoint.id,
        principal=principal,
        fields=("url", "events", "description"),
    )
    return endpoint, signing.format_secret(raw)


async def list_endpoints(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[WebhookEndpoint], str | None]:
    """The caller's agency's active endpoints, newest first."""
    statement = readable_endpoints(principal).where(col(WebhookEndpoint.is_active).is_(True))
    rows = list(
        (
            await session.execute(
                paginate(
                    statement, params, col(WebhookEndpoint.created_at), col(WebhookEndpoint.id)
                )
            )
        ).scalars()
    )
    await audit.record(
        session, action=f"{RESOURCE}.list", resource_type=RESOURCE, principal=principal
    )
    return page_of(rows, params, lambda e: (e.created_at, e.id))


async def deactivate_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
) -> None:
    """Deactivate an endpoint of the caller's agency; its pending deliveries fail.
    An endpoint already deactivated is not found."""
    endpoint: WebhookEndpoint = await load_readable(
        session,
        principal,
        readable_endpoints(principal),
        col(WebhookEndpoint.id),
        endpoint_id,
        resource_type=RESOURCE,
        action=f"{RESOURCE}.delete",
        for_update=True,
    )
    if not endpoint.is_active:
        raise NotFound()
    endpoint.is_active = False
    endpoint.deactivated_at = utcnow()
    await session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint.id,
            col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.FAILED.value, last_error="endpoint_deactivated")
    )
    await session.flush()
    await audit.record(
        session,
        action=f"{RESOURCE}.delete",
        resource_type=RESOURCE,
        resource_id=endpoint.id,
        principal=principal,
    )
