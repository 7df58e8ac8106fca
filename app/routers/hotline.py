"""Hotline 111 reports: `GET|POST /api/v1/hotline-reports`,
`GET /api/v1/hotline-reports/{id}`, `POST /api/v1/hotline-reports/{id}/triage`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from app.db import SessionDep, TransactionRoute
from app.deps import IndexerDep, KeysDep, PurposeHeader, RevealQuery, require
from app.etag import IfMatchHeader, etag, required_version
from app.idempotency import IdempotencyDep
from app.models import HotlineReport
from app.models.hotline import HotlineStatus
from app.schemas.common import Page, problem_responses
from app.schemas.hotline import (
    HotlineReportCreate,
    HotlineReportPublic,
    HotlineReportSummary,
    HotlineTriageCreate,
    HotlineTriagePublic,
)
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import hotline as service
from app.services import hotline_queue, hotline_triage
from app.services.cases.read import reveal_purpose
from app.services.pagination import PageParams, page_params

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/hotline-reports",
    tags=["hotline"],
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)

# Hidden: a role that may not read reports (system admin, auditor) learns nothing of
# which reports exist.
WriteReports = Annotated[Principal, require(Permission.HOTLINE_REPORTS_WRITE, hide=True)]
ReadReports = Annotated[Principal, require(Permission.HOTLINE_REPORTS_READ, hide=True)]


def _summary(report: HotlineReport) -> HotlineReportSummary:
    return hotline_queue.summary(report, datetime.now(UTC))


@router.post("", status_code=201, response_model=HotlineReportSummary)
async def create_hotline_report(
    session: SessionDep,
    keys: KeysDep,
    indexer: IndexerDep,
    principal: WriteReports,
    body: HotlineReportCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Record a report; the caller and each suspected victim become encrypted persons.
    The answer carries no identity value."""

    async def create() -> HotlineReportSummary:
        return _summary(await service.create_report(session, keys, indexer, principal, body))

    return await idempotency.run(create, resource_type="hotline_report")


@router.get("", response_model=Page[HotlineReportSummary])
async def list_hotline_reports(
    session: SessionDep,
    principal: ReadReports,
    params: Annotated[PageParams, Depends(page_params)],
    status: Annotated[HotlineStatus | None, Query()] = None,
    overdue: Annotated[
        bool | None,
        Query(description="true: past `respond_by` and not answered; false: the others."),
    ] = None,
) -> Page[HotlineReportSummary]:
    """Reports of the caller's centre and those forwarded to the caller's agency:
    reports in immediate danger still waiting for an answer first, then newest first;
    no identity values."""
    now = datetime.now(UTC)
    items, cursor = await service.list_reports(
        session, principal, params, now, status=status.value if status else None, overdue=overdue
    )
    return Page(items=[hotline_queue.summary(r, now) for r in items], next_cursor=cursor)


@router.get("/{report_id}", response_model=HotlineReportPublic, responses=problem_responses(422))
async def get_hotline_report(
    session: SessionDep,
    keys: KeysDep,
    principal: ReadReports,
    report_id: uuid.UUID,
    response: Response,
    purpose: PurposeHeader = None,
    reveal: RevealQuery = None,
) -> HotlineReportPublic:
    """Masked by default; `?reveal=identity` with `X-Purpose-Of-Use` shows the values
    to a holder of a reveal permission, as for a case: a reveal without a known
    purpose is 422. ETag is the version."""
    code = reveal_purpose(principal, reveal, purpose)
    public = await service.read_report(
        session, keys, principal, report_id, reveal=code is not None, purpose=code
    )
    response.headers["ETag"] = etag(public.version)
    return public


@router.post("/{report_id}/triage", response_model=HotlineTriagePublic)
async def triage_hotline_report(
    session: SessionDep,
    keys: KeysDep,
    indexer: IndexerDep,
    principal: ReadReports,
    report_id: uuid.UUID,
    body: HotlineTriageCreate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> HotlineTriagePublic:
    """Open cases from the report, forward it, or close it with a reason. For
    `open_case`, `victim_indexes` names the suspected victims (one case each, all or
    none; the first one if unset) and the answer carries `case_ids` (and the first as
    `case_id`). Needs If-Match (the report's ETag); a report already triaged answers
    409 with the actions still allowed."""
    version = required_version(if_match)
    result = await hotline_triage.triage_report(
        session, keys, indexer, principal, report_id, body, expected_version=version
    )
    response.headers["ETag"] = etag(result.version)
    return result
