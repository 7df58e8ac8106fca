"""Break-glass: `POST /api/v1/cases/{case_id}/break-glass` (an emergency read of a
case outside the caller's access), `GET /api/v1/break-glass` and
`POST /api/v1/break-glass/{break_glass_id}/review` (auditors)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.config import Settings
from app.db import SessionDep, TransactionRoute
from app.deps import KeysDep, require
from app.idempotency import IdempotencyDep
from app.schemas.break_glass import BreakGlassCreate, BreakGlassPublic, BreakGlassReview
from app.schemas.common import Page, problem_responses
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import break_glass
from app.services.pagination import PageParams, page_params

router = APIRouter(
    route_class=TransactionRoute, tags=["break-glass"], responses=problem_responses(401)
)

# Hidden like every case route: a role without it learns nothing about which cases exist.
BreakGlass = Annotated[Principal, require(Permission.CASES_BREAK_GLASS, hide=True)]
Review = Annotated[Principal, require(Permission.BREAK_GLASS_REVIEW)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.post(
    "/api/v1/cases/{case_id}/break-glass",
    status_code=201,
    response_model=BreakGlassPublic,
    responses=problem_responses(403, 404, 409, 422),
)
async def break_the_glass(
    request: Request,
    session: SessionDep,
    keys: KeysDep,
    principal: BreakGlass,
    case_id: uuid.UUID,
    body: BreakGlassCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Read a case outside your normal access in an emergency (police, hotline): for
    `VCM_BREAK_GLASS_MINUTES` (60 by default) `GET /api/v1/cases/{case_id}` answers
    you, read only, every read audited. The reason is stored encrypted and reviewed
    by an auditor; the lead agency is told (`case.break_glass`). 409 when you already
    read the case."""
    minutes = _settings(request).break_glass_minutes

    async def create() -> BreakGlassPublic:
        return await break_glass.break_glass(
            session, keys, principal, case_id, body, minutes=minutes
        )

    # `Location` is the case the grant opens (the grant itself is read by reviewers).
    return await idempotency.run(
        create, resource_type="break_glass", location=f"/api/v1/cases/{case_id}"
    )


@router.get(
    "/api/v1/break-glass",
    response_model=Page[BreakGlassPublic],
    responses=problem_responses(403),
)
async def list_break_glass(
    session: SessionDep,
    keys: KeysDep,
    principal: Review,
    params: Annotated[PageParams, Depends(page_params)],
    reviewed: Annotated[
        bool | None, Query(description="`false`: the queue awaiting a verdict.")
    ] = None,
) -> Page[BreakGlassPublic]:
    """Break-glass reads of all agencies, newest first, with their reasons (auditors)."""
    items, cursor = await break_glass.list_break_glass(
        session, keys, principal, params, reviewed=reviewed
    )
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/api/v1/break-glass/{break_glass_id}/review",
    response_model=BreakGlassPublic,
    responses=problem_responses(403, 404, 409, 422),
)
async def review_break_glass(
    session: SessionDep,
    keys: KeysDep,
    principal: Review,
    break_glass_id: uuid.UUID,
    body: BreakGlassReview,
) -> BreakGlassPublic:
    """The verdict on a break-glass read (once): `justified` or `unjustified`; an
    `unjustified` one still open ends at once."""
    return await break_glass.review(session, keys, principal, break_glass_id, body)
