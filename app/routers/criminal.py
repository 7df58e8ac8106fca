"""The criminal proceedings a case belongs to
(`/api/v1/cases/{id}/criminal-proceedings`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.db import SessionDep, TransactionRoute
from app.deps import KeysDep, Paging, ReadCases, WriteCases
from app.etag import IfMatchHeader, etag
from app.idempotency import IdempotencyDep
from app.schemas.common import Page, problem_responses
from app.schemas.criminal import (
    CriminalProceedingCreate,
    CriminalProceedingPublic,
    CriminalProceedingUpdate,
)
from app.services.cases import criminal

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/cases/{case_id}/criminal-proceedings",
    tags=["case records"],
    responses=problem_responses(401, 404),
)


@router.post(
    "",
    status_code=201,
    response_model=CriminalProceedingPublic,
    responses=problem_responses(403),
)
async def create_criminal_proceeding(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: CriminalProceedingCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Record criminal proceedings the case belongs to (police, border guard or coast
    guard: the lead, or a participant in an identification or investigation role).
    The reference is stored encrypted."""

    async def create() -> CriminalProceedingPublic:
        return await criminal.create_proceeding(session, keys, principal, case_id, body)

    return await idempotency.run(create, resource_type="criminal_proceeding")


@router.get("", response_model=Page[CriminalProceedingPublic])
async def list_criminal_proceedings(
    session: SessionDep, keys: KeysDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[CriminalProceedingPublic]:
    """The case's criminal proceedings, newest first, with their references."""
    items, cursor = await criminal.list_proceedings(session, keys, principal, case_id, params)
    return Page(items=items, next_cursor=cursor)


@router.patch(
    "/{proceeding_id}",
    response_model=CriminalProceedingPublic,
    responses=problem_responses(403, 409, 412, 428),
)
async def update_criminal_proceeding(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    proceeding_id: uuid.UUID,
    body: CriminalProceedingUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CriminalProceedingPublic:
    """Move the stage forward (reported → investigating → prosecuted → tried →
    closed; closed is final), give the outcome, or correct the reference or the
    investigating agency."""
    proceeding = await criminal.update_proceeding(
        session, keys, principal, case_id, proceeding_id, body, if_match=if_match
    )
    response.headers["ETag"] = etag(proceeding.version)
    return proceeding
