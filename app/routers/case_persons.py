"""The persons of a case other than the victim: relatives, accompanying minors, people
who help and witnesses (`/api/v1/cases/{case_id}/persons`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.db import SessionDep, TransactionRoute
from app.deps import (
    IndexerDep,
    KeysDep,
    Paging,
    PurposeHeader,
    ReadCases,
    RevealQuery,
    WriteCases,
)
from app.etag import etag
from app.idempotency import IdempotencyDep
from app.schemas.case_persons import CasePersonCreate, CasePersonPublic
from app.schemas.common import Page, problem_responses
from app.services.cases import persons
from app.services.pagination import PageParams

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/cases/{case_id}/persons",
    tags=["case persons"],
    responses=problem_responses(401, 404),
)


@router.post(
    "",
    status_code=201,
    response_model=CasePersonPublic,
    responses=problem_responses(403, 422),
)
async def add_person(
    session: SessionDep,
    keys: KeysDep,
    indexer: IndexerDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: CasePersonCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Add a relative, an accompanying minor, a person who helps or a witness (the lead
    agency). Identity is stored encrypted; the answer is masked. `Location` names the
    person's resource."""

    async def create() -> CasePersonPublic:
        return await persons.add_person(session, keys, indexer, principal, case_id, body)

    return await idempotency.run(create, resource_type="case_person")


@router.get("", response_model=Page[CasePersonPublic], responses=problem_responses(403, 422))
async def list_persons(
    session: SessionDep,
    keys: KeysDep,
    principal: ReadCases,
    case_id: uuid.UUID,
    params: Paging,
    purpose: PurposeHeader = None,
    reveal: RevealQuery = None,
) -> Page[CasePersonPublic]:
    """Every person of the case but the victim, newest first, masked; revealed with
    `?reveal=identity` and a purpose of use."""
    items, cursor = await persons.list_persons(
        session, keys, principal, case_id, params, reveal=reveal, purpose=purpose
    )
    return Page(items=items, next_cursor=cursor)


@router.get("/{person_id}", response_model=CasePersonPublic, responses=problem_responses(403, 422))
async def get_person(
    session: SessionDep,
    keys: KeysDep,
    principal: ReadCases,
    case_id: uuid.UUID,
    person_id: uuid.UUID,
    response: Response,
    purpose: PurposeHeader = None,
    reveal: RevealQuery = None,
) -> CasePersonPublic:
    """One person of the case (not the victim: see the case itself), masked or
    revealed like the list. ETag is the person record's version."""
    items, _ = await persons.list_persons(
        session,
        keys,
        principal,
        case_id,
        PageParams(limit=1, cursor=None),
        reveal=reveal,
        purpose=purpose,
        person_id=person_id,
    )
    response.headers["ETag"] = etag(items[0].version)
    return items[0]
