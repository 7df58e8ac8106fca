"""The register of data subjects' requests (Law 91/2025): `POST|GET
/api/v1/data-requests`, `POST /api/v1/data-requests/{data_request_id}/complete|reject`,
and the right of access: `GET /api/v1/persons/{person_id}/export`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app.config import Settings
from app.db import SessionDep, TransactionRoute
from app.deps import KeysDep, require
from app.domain.data_requests import RequestStatus
from app.idempotency import IdempotencyDep
from app.schemas.common import Page, problem_responses
from app.schemas.data_request import (
    DataRequestClose,
    DataRequestCreate,
    DataRequestPublic,
    PersonExport,
)
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import data_requests, person_export, person_export_page
from app.services.pagination import PageParams, page_params

router = APIRouter(
    route_class=TransactionRoute, tags=["data-requests"], responses=problem_responses(401)
)

# Hidden like every case route: a role without it learns nothing about which cases exist.
Write = Annotated[Principal, require(Permission.CASES_WRITE, hide=True)]
Read = Annotated[Principal, require(Permission.CASES_READ, hide=True)]
# The export shows identity in clear.
Reveal = Annotated[Principal, require(Permission.CASES_REVEAL_IDENTITY, hide=True)]
BASE = "/api/v1/data-requests"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.post(
    BASE,
    status_code=201,
    response_model=DataRequestPublic,
    responses=problem_responses(403, 404, 422),
)
async def create_data_request(
    request: Request,
    session: SessionDep,
    keys: KeysDep,
    principal: Write,
    body: DataRequestCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Enter a person's request about their data in the register (the case's lead
    agency): it answers with the day to acknowledge by (working days on the public
    holiday calendar, `VCM_DATA_REQUEST_ACK_WORKING_DAYS`, 2 by default) and the day to
    complete by (calendar days, `VCM_DATA_REQUEST_COMPLETE_DAYS`, 15 by default)."""
    settings = _settings(request)

    async def create() -> DataRequestPublic:
        return await data_requests.create(
            session,
            keys,
            principal,
            body,
            ack_working_days=settings.data_request_ack_working_days,
            complete_days=settings.data_request_complete_days,
        )

    return await idempotency.run(
        create, resource_type="data_request", location=f"{BASE}?case_id={body.case_id}"
    )


@router.get(BASE, response_model=Page[DataRequestPublic], responses=problem_responses(404))
async def list_data_requests(
    session: SessionDep,
    keys: KeysDep,
    principal: Read,
    params: Annotated[PageParams, Depends(page_params)],
    overdue: Annotated[
        bool | None, Query(description="`true`: open requests past their completion day.")
    ] = None,
    case_id: Annotated[uuid.UUID | None, Query(description="One case's requests.")] = None,
) -> Page[DataRequestPublic]:
    """The requests of the cases your agency leads, newest first, with their texts.
    Overdue requests are announced (`data_request.overdue`, once each)."""
    items, cursor = await data_requests.list_requests(
        session, keys, principal, params, overdue=overdue, case_id=case_id
    )
    return Page(items=items, next_cursor=cursor)


@router.post(
    BASE + "/{data_request_id}/complete",
    response_model=DataRequestPublic,
    responses=problem_responses(403, 404, 409, 422),
)
async def complete_data_request(
    session: SessionDep,
    keys: KeysDep,
    principal: Write,
    data_request_id: uuid.UUID,
    body: DataRequestClose,
) -> DataRequestPublic:
    """Close an open request as done; `outcome` (what was done) is required."""
    return await data_requests.close(
        session, keys, principal, data_request_id, body, status=RequestStatus.COMPLETED
    )


@router.post(
    BASE + "/{data_request_id}/reject",
    response_model=DataRequestPublic,
    responses=problem_responses(403, 404, 409, 422),
)
async def reject_data_request(
    session: SessionDep,
    keys: KeysDep,
    principal: Write,
    data_request_id: uuid.UUID,
    body: DataRequestClose,
) -> DataRequestPublic:
    """Refuse an open request; `reason` is required."""
    return await data_requests.close(
        session, keys, principal, data_request_id, body, status=RequestStatus.REJECTED
    )


@router.get(
    "/api/v1/persons/{person_id}/export",
    response_model=PersonExport,
    responses={
        **problem_responses(404, 409, 422),
        200: {"content": {"text/html": {"schema": {"type": "string"}}}},
    },
)
async def export_person(
    request: Request,
    session: SessionDep,
    keys: KeysDep,
    principal: Reveal,
    person_id: uuid.UUID,
    data_request_id: Annotated[
        uuid.UUID | None,
        Query(description="The open `access` request; when omitted, the person's only one."),
    ] = None,
) -> PersonExport | HTMLResponse:
    """The person's own data in clear, for their open `access` request (the case's
    lead agency): identity, the case's steps, services, consents and every agency the
    data was disclosed to. JSON, or a printable page in Vietnamese with
    `Accept: text/html`. Audited as a disclosure to the person."""
    answer = await person_export.export(session, keys, principal, person_id, data_request_id)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(person_export_page.render(answer))
    return answer
