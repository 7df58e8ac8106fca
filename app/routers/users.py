"""Users: `GET|POST /api/v1/users`, `GET|PATCH /api/v1/users/{id}`,
`DELETE /api/v1/users/{id}/mfa`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from app.db import SessionDep, TransactionRoute
from app.deps import require
from app.etag import IfMatchHeader, etag
from app.idempotency import IdempotencyDep
from app.models import User
from app.schemas.common import Page, problem_responses
from app.schemas.user import UserCreate, UserPublic, UserUpdate
from app.security.permissions import Permission, Role
from app.security.principal import Principal
from app.services import users as service
from app.services.pagination import PageParams, page_params

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/users",
    tags=["users"],
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)

ReadUsers = Annotated[Principal, require(Permission.USERS_READ)]
ManageUsers = Annotated[Principal, require(Permission.USERS_MANAGE)]


def _public(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("", response_model=Page[UserPublic])
async def list_users(
    session: SessionDep,
    principal: ReadUsers,
    params: Annotated[PageParams, Depends(page_params)],
    agency_id: Annotated[uuid.UUID | None, Query()] = None,
    role: Annotated[Role | None, Query()] = None,
) -> Page[UserPublic]:
    items, cursor = await service.list_users(
        session, principal, params, agency_id=agency_id, role=role
    )
    return Page(items=[_public(u) for u in items], next_cursor=cursor)


@router.post("", status_code=201, response_model=UserPublic)
async def create_user(
    session: SessionDep, principal: ManageUsers, body: UserCreate, idempotency: IdempotencyDep
) -> JSONResponse:
    async def create() -> UserPublic:
        return _public(await service.create_user(session, principal, body))

    return await idempotency.run(create, resource_type="user")


@router.get("/{user_id}", response_model=UserPublic)
async def get_user(
    session: SessionDep, principal: ReadUsers, user_id: uuid.UUID, response: Response
) -> UserPublic:
    user = await service.get_user(session, principal, user_id)
    response.headers["ETag"] = etag(user.version)
    return _public(user)


@router.patch("/{user_id}", response_model=UserPublic)
async def update_user(
    session: SessionDep,
    principal: ManageUsers,
    user_id: uuid.UUID,
    body: UserUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> UserPublic:
    user = await service.update_user(session, principal, user_id, body, if_match=if_match)
    response.headers["ETag"] = etag(user.version)
    return _public(user)


@router.delete("/{user_id}/mfa", status_code=204)
async def reset_mfa(session: SessionDep, principal: ManageUsers, user_id: uuid.UUID) -> Response:
    """Reset the user's second factor (a lost phone): the enrolment and recovery codes
    are forgotten and every session of theirs ends. An administrator of the user's
    agency (or a system administrator for the roles they manage); never one's own."""
    await service.reset_mfa(session, principal, user_id)
    return Response(status_code=204)
