"""Agencies: `GET|POST /api/v1/agencies`, `GET /api/v1/agencies/{id}`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from app.db import SessionDep, TransactionRoute
from app.deps import require
from app.idempotency import IdempotencyDep
from app.schemas.agency import AgencyCreate, AgencyPublic
from app.schemas.common import Page, problem_responses
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import agencies as service
from app.services.pagination import PageParams, page_params

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/agencies",
    tags=["agencies"],
    responses=problem_responses(401, 403, 404, 409),
)


def _public(agency: object) -> AgencyPublic:
    return AgencyPublic.model_validate(agency, from_attributes=True)


ReadAgencies = Annotated[Principal, require(Permission.AGENCIES_READ)]
ManageAgencies = Annotated[Principal, require(Permission.AGENCIES_MANAGE)]


@router.get("", response_model=Page[AgencyPublic])
async def list_agencies(
    session: SessionDep,
    principal: ReadAgencies,
    params: Annotated[PageParams, Depends(page_params)],
    kind: Annotated[str | None, Query(max_length=40)] = None,
    province_code: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
) -> Page[AgencyPublic]:
    items, cursor = await service.list_agencies(
        session, params, kind=kind, province_code=province_code, principal=principal
    )
    return Page(items=[_public(a) for a in items], next_cursor=cursor)


@router.post("", status_code=201, response_model=AgencyPublic)
async def create_agency(
    session: SessionDep, principal: ManageAgencies, body: AgencyCreate, idempotency: IdempotencyDep
) -> JSONResponse:
    async def create() -> AgencyPublic:
        return _public(await service.create_agency(session, body, principal=principal))

    return await idempotency.run(create, resource_type="agency")


@router.get("/{agency_id}", response_model=AgencyPublic)
async def get_agency(
    session: SessionDep, principal: ReadAgencies, agency_id: uuid.UUID
) -> AgencyPublic:
    return _public(await service.get_agency(session, agency_id, principal=principal))
