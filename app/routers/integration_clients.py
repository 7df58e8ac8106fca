"""Integration clients: `GET|POST /api/v1/integration-clients`,
`GET /api/v1/integration-clients/{client_id}`,
`POST /api/v1/integration-clients/{client_id}/revoke`.

Creation takes no `Idempotency-Key`: replaying a create would have to store the
response, and the response holds the only copy of the secret. A lost response is
recovered by revoking the client and registering another.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.db import SessionDep, TransactionRoute
from app.deps import require
from app.http import set_location
from app.models import IntegrationClient
from app.schemas.common import Page, problem_responses
from app.schemas.integration_clients import (
    IntegrationClientCreate,
    IntegrationClientCreated,
    IntegrationClientPublic,
)
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import integration_clients as service
from app.services.pagination import PageParams, page_params

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/integration-clients",
    tags=["integration clients"],
    responses=problem_responses(401, 403, 404),
)

ManageClients = Annotated[Principal, require(Permission.INTEGRATION_CLIENTS_MANAGE)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _public(client: IntegrationClient) -> IntegrationClientPublic:
    return IntegrationClientPublic(
        client_id=client.id,
        name=client.name,
        agency_id=client.agency_id,
        scopes=list(client.scopes),
        created_at=client.created_at,
        revoked_at=client.revoked_at,
        last_used_at=client.last_used_at,
    )


@router.post("", status_code=201, response_model=IntegrationClientCreated)
async def create_client(
    session: SessionDep,
    principal: ManageClients,
    body: IntegrationClientCreate,
    request: Request,
    response: Response,
) -> IntegrationClientCreated:
    """Register a client for the caller's agency. `client_secret` is in this response
    only; it is stored hashed and cannot be shown again."""
    client, secret = await service.create_client(session, principal, body)
    response.headers.update(NO_STORE)
    set_location(request, response, client.id)
    return IntegrationClientCreated(**_public(client).model_dump(), client_secret=secret)


@router.get("", response_model=Page[IntegrationClientPublic])
async def list_clients(
    session: SessionDep,
    principal: ManageClients,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[IntegrationClientPublic]:
    items, cursor = await service.list_clients(session, principal, params)
    return Page(items=[_public(c) for c in items], next_cursor=cursor)


@router.get("/{client_id}", response_model=IntegrationClientPublic)
async def get_client(
    session: SessionDep, principal: ManageClients, client_id: uuid.UUID
) -> IntegrationClientPublic:
    return _public(await service.get_client(session, principal, client_id))


@router.post("/{client_id}/revoke", response_model=IntegrationClientPublic)
async def revoke_client(
    session: SessionDep, principal: ManageClients, client_id: uuid.UUID
) -> IntegrationClientPublic:
    """Revoke the client: its access tokens stop working with their next request and
    it can get no new ones. Revoking twice is harmless."""
    return _public(await service.revoke_client(session, principal, client_id))
