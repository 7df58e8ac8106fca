"""A case's records: evidence, the verification, identification decisions,
protection measures and consents (`/api/v1/cases/{id}/...`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.db import SessionDep, TransactionRoute
from app.deps import KeysDep, Paging, ReadCases, WriteCases
from app.etag import IfMatchHeader, etag
from app.idempotency import IdempotencyDep
from app.schemas.case_records import (
    ConsentCreate,
    ConsentPublic,
    EvidenceCreate,
    EvidencePublic,
    IdentificationCreate,
    IdentificationPublic,
    ProtectionMeasureCreate,
    ProtectionMeasurePublic,
    ProtectionMeasureUpdate,
)
from app.schemas.common import Page, problem_responses
from app.schemas.verification import VerificationCreate, VerificationPublic
from app.services.cases import consents, evidence, identification, protection, verification

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/cases/{case_id}",
    tags=["case records"],
    responses=problem_responses(401, 404),
)


@router.post(
    "/evidence",
    status_code=201,
    response_model=EvidencePublic,
    responses=problem_responses(403, 409),
)
async def create_evidence(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: EvidenceCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Record evidence (agencies with the `verify` function); the description is
    stored encrypted."""

    async def create() -> EvidencePublic:
        return await evidence.create_evidence(session, keys, principal, case_id, body)

    return await idempotency.run(create, resource_type="evidence")


@router.get("/evidence", response_model=Page[EvidencePublic])
async def list_evidence(
    session: SessionDep, keys: KeysDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[EvidencePublic]:
    items, cursor = await evidence.list_evidence(session, keys, principal, case_id, params)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/verification",
    status_code=201,
    response_model=VerificationPublic,
    responses=problem_responses(403, 409),
)
async def record_verification(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: VerificationCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Record the case's initial verification, once (agencies with the `verify`
    function: the lead or a participant in the verification role). Only this record
    meets the initial-verification deadline; the note is stored encrypted."""

    async def create() -> VerificationPublic:
        return await verification.record_verification(session, keys, principal, case_id, body)

    return await idempotency.run(create, resource_type="verification")


@router.get("/verification", response_model=Page[VerificationPublic])
async def list_verification(
    session: SessionDep, keys: KeysDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[VerificationPublic]:
    """The case's verification record: no item until it is recorded, then one (so
    never a next page; `limit` is accepted as on every list)."""
    items = await verification.list_verifications(session, keys, principal, case_id)
    return Page(items=items[: params.limit], next_cursor=None)


@router.post(
    "/identification",
    status_code=201,
    response_model=IdentificationPublic,
    responses=problem_responses(403, 409),
)
async def decide_identification(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: IdentificationCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Decide victim / not a victim (agencies with the `identify` function, case under
    verification); moves the case to `identified` / `not_identified`."""

    async def create() -> IdentificationPublic:
        return await identification.decide(session, keys, principal, case_id, body)

    return await idempotency.run(create, resource_type="identification_decision")


@router.get("/identification", response_model=Page[IdentificationPublic])
async def list_identification(
    session: SessionDep, keys: KeysDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[IdentificationPublic]:
    """The case's identification decisions, oldest first."""
    items, cursor = await identification.list_decisions(session, keys, principal, case_id, params)
    return Page(items=items, next_cursor=cursor)


@router.post("/protection-measures", status_code=201, response_model=ProtectionMeasurePublic)
async def create_protection_measure(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: ProtectionMeasureCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    async def create() -> ProtectionMeasurePublic:
        return await protection.create_measure(session, keys, principal, case_id, body)

    return await idempotency.run(create, resource_type="protection_measure")


@router.get("/protection-measures", response_model=Page[ProtectionMeasurePublic])
async def list_protection_measures(
    session: SessionDep, keys: KeysDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[ProtectionMeasurePublic]:
    items, cursor = await protection.list_measures(session, keys, principal, case_id, params)
    return Page(items=items, next_cursor=cursor)


@router.patch(
    "/protection-measures/{measure_id}",
    response_model=ProtectionMeasurePublic,
    responses=problem_responses(412, 428),
)
async def update_protection_measure(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    measure_id: uuid.UUID,
    body: ProtectionMeasureUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ProtectionMeasurePublic:
    measure = await protection.update_measure(
        session, keys, principal, case_id, measure_id, body, if_match=if_match
    )
    response.headers["ETag"] = etag(measure.version)
    return measure


@router.post("/consents", status_code=201, response_model=ConsentPublic)
async def create_consent(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: ConsentCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Record a consent; a child's consent needs the legal representative (and, from
    age 7, the child too)."""

    async def create() -> ConsentPublic:
        return await consents.create_consent(session, keys, principal, case_id, body)

    return await idempotency.run(create, resource_type="consent")


@router.get("/consents", response_model=Page[ConsentPublic])
async def list_consents(
    session: SessionDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[ConsentPublic]:
    items, cursor = await consents.list_consents(session, principal, case_id, params)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/consents/{consent_id}/withdraw",
    response_model=ConsentPublic,
    responses=problem_responses(409),
)
async def withdraw_consent(
    session: SessionDep, principal: WriteCases, case_id: uuid.UUID, consent_id: uuid.UUID
) -> ConsentPublic:
    """Withdraw a consent; it stops counting at once."""
    return await consents.withdraw_consent(session, principal, case_id, consent_id)
