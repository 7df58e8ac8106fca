"""Webhook endpoints of the caller's agency: `GET|POST /api/v1/webhooks`,
`DELETE /api/v1/webhooks/{webhook_id}` (agency administrators)."""

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
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointPublic,
)
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.pagination import PageParams, page_params
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
