"""Webhook endpoints of the caller's agency: `GET|POST /api/v1/webhooks`,
`DELETE /api/v1/webhooks/{webhook_id}`, and each endpoint's delivery log, redelivery
and test ping (agency administrators)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.config import Settings
from app.db import SessionDep, TransactionRoute
from app.deps import KeysDep, require
from app.http import set_location
from app.models.webhook import WebhookEndpoint
from app.schemas.common import Page, problem_responses
from app.schemas.webhooks import (
    WebhookDeliveryPublic,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointPublic,
)
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.pagination import PageParams, page_params
from app.services.webhooks import deliveries
from app.services.webhooks import endpoints as service

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/webhooks",
    tags=["webhooks"],
    responses=problem_responses(401, 403, 404),
)

ManageWebhooks = Annotated[Principal, require(Permission.WEBHOOKS_MANAGE)]


def _public(endpoint: WebhookEndpoint) -> WebhookEndpointPublic:
    return WebhookEndpointPublic.model_validate(endpoint, from_attributes=True)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


@router.get("", response_model=Page[WebhookEndpointPublic])
async def list_webhooks(
    session: SessionDep,
    principal: ManageWebhooks,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[WebhookEndpointPublic]:
    items, cursor = await service.list_endpoints(session, principal, params)
    return Page(items=[_public(e) for e in items], next_cursor=cursor)


# No Idempotency-Key replay here: the stored replay would keep the secret in plain
# text in the database.
@router.post("", status_code=201, response_model=WebhookEndpointCreated)
async def create_webhook(
    session: SessionDep,
    principal: ManageWebhooks,
    keys: KeysDep,
    settings: SettingsDep,
    body: WebhookEndpointCreate,
    request: Request,
    response: Response,
) -> WebhookEndpointCreated:
    endpoint, secret = await service.create_endpoint(session, keys, settings, principal, body)
    set_location(request, response, endpoint.id)
    return WebhookEndpointCreated(**_public(endpoint).model_dump(), secret=secret)


@router.delete("/{webhook_id}", status_code=204, response_class=Response)
async def delete_webhook(
    session: SessionDep, principal: ManageWebhooks, webhook_id: uuid.UUID
) -> Response:
    await service.deactivate_endpoint(session, principal, webhook_id)
    return Response(status_code=204)


def _delivery_location(response: Response, delivery: WebhookDeliveryPublic) -> None:
    response.headers["Location"] = (
        f"/api/v1/webhooks/{delivery.webhook_id}/deliveries/{delivery.id}"
    )


@router.get("/{webhook_id}/deliveries", response_model=Page[WebhookDeliveryPublic])
async def list_webhook_deliveries(
    session: SessionDep,
    principal: ManageWebhooks,
    webhook_id: uuid.UUID,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[WebhookDeliveryPublic]:
    """The endpoint's deliveries, newest first, each with every attempt."""
    items, cursor = await deliveries.list_deliveries(session, principal, webhook_id, params)
    return Page(items=items, next_cursor=cursor)


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=WebhookDeliveryPublic)
async def read_webhook_delivery(
    session: SessionDep, principal: ManageWebhooks, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDeliveryPublic:
    return await deliveries.read_delivery(session, principal, webhook_id, delivery_id)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=201,
    response_model=WebhookDeliveryPublic,
    responses=problem_responses(409),
)
async def redeliver_webhook_delivery(
    session: SessionDep,
    principal: ManageWebhooks,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    response: Response,
) -> WebhookDeliveryPublic:
    """Queue the same event again (same payload and `webhook-id`) as a new delivery,
    due now; 409 while the delivery is still pending."""
    delivery = await deliveries.redeliver(session, principal, webhook_id, delivery_id)
    _delivery_location(response, delivery)
    return delivery


@router.post("/{webhook_id}/ping", status_code=201, response_model=WebhookDeliveryPublic)
async def ping_webhook(
    session: SessionDep, principal: ManageWebhooks, webhook_id: uuid.UUID, response: Response
) -> WebhookDeliveryPublic:
    """Queue a `webhook.ping` event to this endpoint alone (no subscription needed)."""
    delivery = await deliveries.ping(session, principal, webhook_id)
    _delivery_location(response, delivery)
    return delivery
