"""Support: `GET|POST /api/v1/support-rates`, `GET|POST /api/v1/cases/{id}/support-services`
and `POST /api/v1/cases/{id}/support-services/{sid}/approve|reject|deliver|cancel`."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.db import SessionDep, TransactionRoute
from app.deps import CurrentPrincipal, KeysDep, Paging, ReadCases, WriteCases, require
from app.domain.entitlements import SupportType
from app.idempotency import IdempotencyDep
from app.models.support import SupportRate, SupportService
from app.schemas.common import Page, problem_responses
from app.schemas.support import (
    SupportRateCreate,
    SupportRateEnd,
    SupportRatePublic,
    SupportServiceAction,
    SupportServiceCreate,
    SupportServicePublic,
)
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import support_rates as rates_service
from app.services.cases import support as service

router = APIRouter(
    route_class=TransactionRoute, tags=["support"], responses=problem_responses(401, 403, 404, 409)
)

ManageRates = Annotated[Principal, require(Permission.SUPPORT_RATES_MANAGE)]


def _rate(rate: SupportRate) -> SupportRatePublic:
    return SupportRatePublic.model_validate(rate, from_attributes=True)


def _service(row: SupportService) -> SupportServicePublic:
    return service.public(row)


@router.get("/api/v1/support-rates", response_model=Page[SupportRatePublic])
async def list_support_rates(
    session: SessionDep,
    principal: CurrentPrincipal,
    params: Paging,
    province_code: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
    type: SupportType | None = None,
    on: Annotated[date | None, Query(description="Only rates in force on this day.")] = None,
) -> Page[SupportRatePublic]:
    """Case workers, supervisors, analysts and system administrators read rates."""
    items, cursor = await rates_service.list_rates(
        session,
        params,
        principal=principal,
        province_code=province_code,
        type=type.value if type else None,
        on=on,
    )
    return Page(items=[_rate(r) for r in items], next_cursor=cursor)


@router.post("/api/v1/support-rates", status_code=201, response_model=SupportRatePublic)
async def create_support_rate(
    session: SessionDep,
    principal: ManageRates,
    body: SupportRateCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """A rate must not overlap another of the same province, type and unit (409)."""

    async def create() -> SupportRatePublic:
        return _rate(await rates_service.create_rate(session, body, principal=principal))

    return await idempotency.run(create, resource_type="support_rate")


@router.post("/api/v1/support-rates/{rate_id}/end", response_model=SupportRatePublic)
async def end_support_rate(
    session: SessionDep, principal: ManageRates, rate_id: uuid.UUID, body: SupportRateEnd
) -> SupportRatePublic:
    """End a rate on a day (inclusive); it may be ended earlier, never extended (409)."""
    return _rate(
        await rates_service.end_rate(session, rate_id, body.effective_to, principal=principal)
    )


@router.post(
    "/api/v1/cases/{case_id}/support-services",
    status_code=201,
    response_model=SupportServicePublic,
    responses=problem_responses(422),
)
async def create_support_service(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    body: SupportServiceCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Request a support; 422 with the reason when the person is not entitled, over the
    120-day cap, or no rate is in force (an actual-cost type takes a receipt); 409 for
    a one-off support the person already has, naming it."""

    async def create() -> SupportServicePublic:
        row = await service.create_service(session, keys, principal, case_id, body)
        # The answer shows the receipt as written (stored encrypted).
        receipt = body.receipt
        return service.public(row, *((receipt.number, receipt.issuer) if receipt else ()))

    return await idempotency.run(create, resource_type="support_service")


@router.get("/api/v1/cases/{case_id}/support-services", response_model=Page[SupportServicePublic])
async def list_support_services(
    session: SessionDep, keys: KeysDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[SupportServicePublic]:
    """With each receipt's number and issuer (audited as a `receipt` read)."""
    items, cursor = await service.list_services(session, keys, principal, case_id, params)
    return Page(items=items, next_cursor=cursor)


async def _act(
    session: SessionDep,
    keys: KeysDep,
    principal: Principal,
    case_id: uuid.UUID,
    service_id: uuid.UUID,
    action: str,
    body: SupportServiceAction | None,
) -> SupportServicePublic:
    row = await service.act_on_service(
        session,
        keys,
        principal,
        case_id,
        service_id,
        action,
        reason=body.reason if body else None,
    )
    return _service(row)


_ACTION_PATH = "/api/v1/cases/{case_id}/support-services/{service_id}/"


@router.post(_ACTION_PATH + "approve", response_model=SupportServicePublic)
async def approve_support_service(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    service_id: uuid.UUID,
    body: SupportServiceAction | None = None,
) -> SupportServicePublic:
    """A supervisor of the owning agency approves a requested support (else 403), not
    the one who requested it (403 `four-eyes-required`); 409 when no longer due."""
    return await _act(session, keys, principal, case_id, service_id, "approve", body)


@router.post(
    _ACTION_PATH + "reject", response_model=SupportServicePublic, responses=problem_responses(422)
)
async def reject_support_service(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    service_id: uuid.UUID,
    body: SupportServiceAction,
) -> SupportServicePublic:
    """A supervisor of the owning agency rejects a requested support, with a reason;
    not the one who requested it (who may cancel it instead)."""
    return await _act(session, keys, principal, case_id, service_id, "reject", body)


@router.post(_ACTION_PATH + "deliver", response_model=SupportServicePublic)
async def deliver_support_service(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    service_id: uuid.UUID,
    body: SupportServiceAction | None = None,
) -> SupportServicePublic:
    """Record the delivery of an approved support (409 before approval, or when no
    longer due), by anyone but its requester (403 `four-eyes-required`)."""
    return await _act(session, keys, principal, case_id, service_id, "deliver", body)


@router.post(_ACTION_PATH + "cancel", response_model=SupportServicePublic)
async def cancel_support_service(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteCases,
    case_id: uuid.UUID,
    service_id: uuid.UUID,
    body: SupportServiceAction | None = None,
) -> SupportServicePublic:
    """Cancel a requested or approved support."""
    return await _act(session, keys, principal, case_id, service_id, "cancel", body)
