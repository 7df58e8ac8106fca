"""Cases: intake, lists, one case (masked or revealed), changes, exact-match search,
status transitions, the timeline and the access log. Every route is hidden (404) from
roles that may not read case data."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from app.db import SessionDep, TransactionRoute
from app.deps import (
    IndexerDep,
    KeysDep,
    Paging,
    PurposeHeader,
    ReadCases,
    RevealQuery,
    WriteCases,
    require,
)
from app.domain.workflow import CaseStatus
from app.etag import IfMatchHeader, etag, required_version
from app.idempotency import IdempotencyDep
from app.schemas.audit import AccessLogEntry
from app.schemas.case import (
    CaseCreate,
    CaseIntakePublic,
    CasePublic,
    CaseSearchResult,
    CaseSharedView,
    CaseSummary,
    CaseUpdate,
    TimelineEntryPublic,
    TransitionCreate,
)
from app.schemas.common import Page, problem_responses, written
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.cases import intake, read, update
from app.services.pagination import page_in_memory

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/cases",
    tags=["cases"],
    responses=problem_responses(401, 404),
)

# The case read: also a break-glass holder's (the access rule gives such a principal
# nothing but its open break-glass grants).
ReadCaseOrBreakGlass = Annotated[
    Principal,
    require(Permission.CASES_READ, hide=True, or_else=Permission.CASES_BREAK_GLASS),
]


@router.post(
    "",
    status_code=201,
    response_model=CaseIntakePublic,
    responses=problem_responses(422),
)
async def create_case(
    session: SessionDep,
    keys: KeysDep,
    indexer: IndexerDep,
    principal: WriteCases,
    idempotency: IdempotencyDep,
    body: CaseCreate,
) -> JSONResponse:
    """Intake: a new case in status `received`, numbered `<province>-<year>-<serial>`,
    with the possible duplicates among cases the caller may read (never merged)."""

    async def create() -> CaseIntakePublic:
        opened = await intake.intake_case(session, keys, indexer, principal, body)
        public = read.case_view(opened.case, opened.persons)
        return CaseIntakePublic(**public.model_dump(), possible_duplicates=opened.duplicates)

    return await idempotency.run(create, resource_type="case")


@router.get("", response_model=Page[CaseSummary], responses=problem_responses(422))
async def list_cases(
    session: SessionDep,
    principal: ReadCases,
    params: Paging,
    status: CaseStatus | None = None,
    province_code: Annotated[str | None, Query(max_length=2)] = None,
    assigned_to: uuid.UUID | None = None,
    is_child: bool | None = None,
    received_from: AwareDatetime | None = None,
    received_to: AwareDatetime | None = None,
    overdue: Annotated[
        bool | None, Query(description="true: the next legal deadline has passed.")
    ] = None,
) -> Response:
    """Readable cases, newest first. No identity field, not even masked."""
    filters = read.CaseFilters(
        status=status.value if status else None,
        province_code=province_code,
        assigned_to=assigned_to,
        is_child=is_child,
        received_from=received_from,
        received_to=received_to,
        overdue=overdue,
    )
    items, cursor = await read.list_cases(session, principal, filters, params)
    return written(Page(items=items, next_cursor=cursor))


@router.get("/search", response_model=CaseSearchResult, responses=problem_responses(422))
async def search_cases(
    session: SessionDep,
    keys: KeysDep,
    indexer: IndexerDep,
    principal: ReadCases,
    params: Paging,
    national_id: Annotated[str | None, Query(max_length=20)] = None,
    phone: Annotated[str | None, Query(max_length=20)] = None,
    full_name: Annotated[str | None, Query(max_length=200)] = None,
    date_of_birth: date | None = None,
) -> Response:
    """Exact match on national ID, phone, or full name with date of birth; readable
    cases only, as skeletons."""
    items = await read.search_cases(
        session,
        keys,
        indexer,
        principal,
        national_id=national_id,
        phone=phone,
        full_name=full_name,
        date_of_birth=date_of_birth,
    )
    page, cursor = page_in_memory(items, params)
    return written(CaseSearchResult(items=page, next_cursor=cursor))


@router.get(
    "/{case_id}",
    response_model=CasePublic | CaseSharedView,
    responses=problem_responses(403, 422),
)
async def get_case(
    session: SessionDep,
    keys: KeysDep,
    principal: ReadCaseOrBreakGlass,
    case_id: uuid.UUID,
    purpose: PurposeHeader = None,
    reveal: RevealQuery = None,
) -> Response:
    """One case with its persons masked, or revealed with `?reveal=identity` and a
    purpose of use. ETag is the version. A participating agency (an accepted referral)
    gets only the fields shared with it (`view: participant`). A user with an open
    break-glass on the case reads it whole, each read audited with its id."""
    public = await read.read_case(session, keys, principal, case_id, reveal=reveal, purpose=purpose)
    return written(public, headers={"ETag": etag(public.version)})


@router.patch("/{case_id}", response_model=CasePublic, responses=problem_responses(412, 422, 428))
async def update_case(
    session: SessionDep,
    keys: KeysDep,
    indexer: IndexerDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: CaseUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CasePublic:
    """Change assignment, skeleton fields or the victim's identity (If-Match)."""
    version = required_version(if_match)
    case = await update.update_case(
        session, keys, indexer, principal, case_id, body, version=version
    )
    response.headers["ETag"] = etag(case.version)
    return await read.case_public(session, keys, principal, case)


@router.post(
    "/{case_id}/transitions",
    response_model=CaseSummary,
    responses=problem_responses(409, 412, 422, 428),
)
async def transition_case(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: TransitionCreate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CaseSummary:
    """Move the case along the workflow; an illegal move is 409 with `allowed`."""
    version = required_version(if_match)
    case = await update.transition_case(session, keys, principal, case_id, body, version=version)
    response.headers["ETag"] = etag(case.version)
    return read.summary(case)


@router.get("/{case_id}/timeline", response_model=Page[TimelineEntryPublic])
async def get_timeline(
    session: SessionDep, keys: KeysDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[TimelineEntryPublic]:
    """Every state change and event of the case, oldest first (a page at a time),
    notes decrypted."""
    items, cursor = await read.read_timeline(session, keys, principal, case_id, params)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/{case_id}/access-log",
    response_model=Page[AccessLogEntry],
    responses=problem_responses(403, 422),
)
async def get_access_log(
    session: SessionDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[AccessLogEntry]:
    """Who read or changed this case, newest first (supervisors)."""
    rows, cursor = await read.case_access_log(session, principal, case_id, params)
    return Page(items=[AccessLogEntry.model_validate(r) for r in rows], next_cursor=cursor)
