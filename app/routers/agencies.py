"""Agencies: `GET|POST /api/v1/agencies`, `GET /api/v1/agencies/{id}`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from app.db import SessionDep
from app.deps import require
from app.idempotency import IdempotencyDep
from app.schemas.agency import AgencyCreate, AgencyPublic
from app.schemas.common import Page, problem_responses
from app.security.permissions import Permission
from app.services import agencies as service
from app.services.pagination import PageParams, page_params

router = APIRouter(
    prefix="/api/v1/agencies", tags=["agencies"], responses=problem_responses(401, 403, 404, 409)
)


def _public(agency: object) -> AgencyPublic:
    return AgencyPublic.model_validate(agency, from_attributes=True)


@router.get("", response_model=Page[AgencyPublic], dependencies=[require(Permission.AGENCIES_READ)])
async def list_agencies(
    session: SessionDep,
    params: Annotated[PageParams, Depends(page_params)],
    kind: Annotated[str | None, Query(max_length=40)] = None,
    province_code: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
) -> Page[AgencyPublic]:
    items, cursor = await service.list_agencies(
        session, params, kind=kind, province_code=province_code
    )
    return Page(items=[_public(a) for a in items], next_cursor=cursor)


@router.post(
    "",
    status_code=201,
    response_model=AgencyPublic,
    dependencies=[require(Permission.AGENCIES_MANAGE)],
)
async def create_agency(
    session: SessionDep, body: AgencyCreate, idempotency: IdempotencyDep
) -> JSONResponse:
    async def create() -> AgencyPublic:
        return _public(await service.create_agency(session, body))

    return await idempotency.run(create)


@router.get(
    "/{agency_id}", response_model=AgencyPublic, dependencies=[require(Permission.AGENCIES_READ)]
)
async def get_agency(session: SessionDep, agency_id: uuid.UUID) -> AgencyPublic:
    return _public(await service.get_agency(session, agency_id))
