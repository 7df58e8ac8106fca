"""Audit trail: `GET /api/v1/audit-events`, `.../verify`, `.../checkpoints` (auditors)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.audit import service
from app.db import SessionDep, TransactionRoute
from app.deps import require
from app.schemas.audit import AuditEventPublic, CheckpointPublic, VerifyResult
from app.schemas.common import Page, problem_responses
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.pagination import PageParams, page_params

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/audit-events",
    tags=["audit"],
    responses=problem_responses(401, 403),
)

ReadAudit = Annotated[Principal, require(Permission.AUDIT_READ)]
CODE = r"^[a-z][a-z0-9_.:-]{0,63}$"


@router.get("", response_model=Page[AuditEventPublic])
async def list_events(
    session: SessionDep,
    principal: ReadAudit,
    params: Annotated[PageParams, Depends(page_params)],
    actor_id: Annotated[uuid.UUID | None, Query()] = None,
    agency_id: Annotated[uuid.UUID | None, Query(description="The actor's agency.")] = None,
    resource_type: Annotated[str | None, Query(pattern=CODE)] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(pattern=CODE)] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query(description="Exclusive.")] = None,
) -> Page[AuditEventPublic]:
    """Audit events, newest first. Names and ids only: no identity value is ever stored."""
    filters = service.EventFilters(
        actor_id, agency_id, resource_type, resource_id, action, from_, to
    )
    items, cursor = await service.list_events(session, principal, filters, params)
    return Page(items=[AuditEventPublic.model_validate(i) for i in items], next_cursor=cursor)


@router.get("/verify", response_model=VerifyResult)
async def verify(
    request: Request,
    session: SessionDep,
    principal: ReadAudit,
    from_checkpoint: Annotated[
        bool, Query(description="Start at the latest signed checkpoint instead of seq 1.")
    ] = False,
) -> VerifyResult:
    """Seal what has committed, then recompute the hash chain."""
    report = await service.verify_chain(
        session,
        request.app.state.sessionmaker,
        request.app.state.keys,
        principal,
        from_checkpoint=from_checkpoint,
    )
    return VerifyResult(
        ok=report.ok,
        checked=report.checked,
        first_bad_seq=report.first_bad_seq,
        head_hash=report.head_hash,
        reason=report.reason,
    )


@router.get("/checkpoints", response_model=Page[CheckpointPublic])
async def checkpoints(
    request: Request,
    session: SessionDep,
    principal: ReadAudit,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[CheckpointPublic]:
    """Signed checkpoints of the chain, oldest first, to keep a copy outside the system."""
    items, cursor = await service.list_checkpoints(
        session, principal, request.app.state.keys, params
    )
    return Page(items=[CheckpointPublic.model_validate(i) for i in items], next_cursor=cursor)
