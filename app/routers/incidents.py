"""Personal-data incidents: `POST|GET /api/v1/incidents` and
`POST /api/v1/incidents/{incident_id}/notifications`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.config import Settings
from app.db import SessionDep, TransactionRoute
from app.deps import KeysDep, require
from app.http import set_location
from app.schemas.common import Page, problem_responses
from app.schemas.incidents import IncidentCreate, IncidentPublic, NotificationCreate
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import incidents
from app.services.pagination import PageParams, page_params

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/incidents",
    tags=["incidents"],
    responses=problem_responses(401, 403),
)

Manage = Annotated[Principal, require(Permission.INCIDENTS_MANAGE)]
Read = Annotated[Principal, require(Permission.INCIDENTS_READ)]


@router.post("", status_code=201, response_model=IncidentPublic, responses=problem_responses(422))
async def create_incident(
    request: Request,
    session: SessionDep,
    keys: KeysDep,
    principal: Manage,
    body: IncidentCreate,
) -> JSONResponse:
    """Record a personal-data incident of your agency. `notify_by` is
    `VCM_INCIDENT_NOTIFY_HOURS` (72 by default; the legal figure is not yet
    confirmed) after `detected_at`. The description is stored encrypted."""
    settings: Settings = request.app.state.settings
    created = await incidents.create_incident(
        session, keys, principal, body, notify_hours=settings.incident_notify_hours
    )
    answer = JSONResponse(created.model_dump(mode="json"), status_code=201)
    set_location(request, answer, created.id)
    return answer


@router.get("", response_model=Page[IncidentPublic])
async def list_incidents(
    session: SessionDep,
    keys: KeysDep,
    principal: Read,
    params: Annotated[PageParams, Depends(page_params)],
    overdue: Annotated[
        bool | None,
        Query(description="`true`: past `notify_by` with no notification to the authority."),
    ] = None,
) -> Page[IncidentPublic]:
    """Incidents, newest first, with descriptions and notifications: your agency's
    (agency administrators), or every agency's (system administrators, auditors)."""
    items, cursor = await incidents.list_incidents(
        session, keys, principal, params, overdue=overdue
    )
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/{incident_id}/notifications",
    response_model=IncidentPublic,
    responses=problem_responses(404, 422),
)
async def notify(
    session: SessionDep,
    keys: KeysDep,
    principal: Manage,
    incident_id: uuid.UUID,
    body: NotificationCreate,
) -> IncidentPublic:
    """Record that the `authority` or the `persons` affected were notified; a
    notification to the authority ends the incident's being overdue."""
    return await incidents.notify(session, keys, principal, incident_id, body)
