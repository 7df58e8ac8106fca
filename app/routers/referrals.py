"""Referrals between agencies: `POST|GET /api/v1/referrals`,
`GET /api/v1/referrals/{id}`,
`POST /api/v1/referrals/{id}/accept|waitlist|reject|complete|cancel`, a case's
accounting of disclosures, `GET /api/v1/cases/{id}/disclosures`, and the agencies on a
case, `GET /api/v1/cases/{id}/participants`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.db import SessionDep, TransactionRoute
from app.deps import KeysDep, Paging, PurposeHeader, ReadCases, RevealQuery, require
from app.idempotency import IdempotencyDep
from app.models.referral import ReferralStatus
from app.schemas.common import Page, problem_responses
from app.schemas.referrals import (
    DisclosurePublic,
    ParticipantPublic,
    ReferralAccept,
    ReferralCancel,
    ReferralComplete,
    ReferralCreate,
    ReferralDirection,
    ReferralPage,
    ReferralPublic,
    ReferralReject,
    ReferralWaitlist,
)
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.pagination import page_in_memory
from app.services.referrals import create, lifecycle, participants, read

router = APIRouter(
    route_class=TransactionRoute, tags=["referrals"], responses=problem_responses(401, 404)
)

# Hidden: a role that reads no case data learns nothing about which referrals exist.
ReadReferrals = Annotated[Principal, require(Permission.REFERRALS_READ, hide=True)]
WriteReferrals = Annotated[Principal, require(Permission.REFERRALS_WRITE, hide=True)]
ReadAccessLog = Annotated[Principal, require(Permission.CASES_ACCESS_LOG, hide=True)]
_ACTION = "/api/v1/referrals/{referral_id}/"
_ACTION_ERRORS = problem_responses(403, 409, 422)


@router.post(
    "/api/v1/referrals",
    status_code=201,
    response_model=ReferralPublic,
    responses=problem_responses(403, 422),
)
async def create_referral(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteReferrals,
    body: ReferralCreate,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """The owning agency refers a case, sharing only `shared_fields`, on a legal basis:
    a data-sharing consent in force, an investigation, or an emergency with a reason."""

    async def run() -> ReferralPublic:
        return await create.create_referral(session, keys, principal, body)

    return await idempotency.run(run, resource_type="referral")


@router.get("/api/v1/referrals", response_model=ReferralPage)
async def list_referrals(
    session: SessionDep,
    principal: ReadReferrals,
    params: Paging,
    direction: ReferralDirection | None = None,
    box: Annotated[ReferralDirection | None, Query(description="The same as `direction`.")] = None,
    status: ReferralStatus | None = None,
    action_needed: Annotated[
        bool,
        Query(
            description="Only those waiting for your agency: incoming pending, waitlisted "
            "or accepted ones; outgoing ones open past their due date."
        ),
    ] = False,
) -> ReferralPage:
    """The agency's inbox (`incoming`), outbox (`outgoing`) or both, with the count of
    open referrals past their due date."""
    items, cursor, overdue = await read.list_referrals(
        session,
        principal,
        params,
        direction=box or direction,
        status=status,
        action_needed=action_needed,
    )
    return ReferralPage(items=items, next_cursor=cursor, overdue_count=overdue)


@router.get(
    "/api/v1/referrals/{referral_id}",
    response_model=ReferralPublic,
    responses=problem_responses(403, 422),
)
async def get_referral(
    session: SessionDep,
    keys: KeysDep,
    principal: ReadReferrals,
    referral_id: uuid.UUID,
    purpose: PurposeHeader = None,
    reveal: RevealQuery = None,
) -> ReferralPublic:
    """Metadata, and exactly the shared fields while the receiver's access is active,
    masked unless revealed with a purpose; status and codes only once it has ended."""
    return await read.get_referral(
        session, keys, principal, referral_id, reveal=reveal, purpose=purpose
    )


@router.post(_ACTION + "accept", response_model=ReferralPublic, responses=_ACTION_ERRORS)
async def accept_referral(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteReferrals,
    referral_id: uuid.UUID,
    body: ReferralAccept | None = None,
) -> ReferralPublic:
    """The receiving agency accepts a pending or waitlisted referral: it becomes a
    participant of the case in the referral's role; a transfer moves the lead."""
    return await lifecycle.act(session, keys, principal, referral_id, "accept", body)


@router.post(_ACTION + "waitlist", response_model=ReferralPublic, responses=_ACTION_ERRORS)
async def waitlist_referral(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteReferrals,
    referral_id: uuid.UUID,
    body: ReferralWaitlist,
) -> ReferralPublic:
    """The receiving agency will take a pending referral later, by `expected_at`."""
    return await lifecycle.act(session, keys, principal, referral_id, "waitlist", body)


@router.post(_ACTION + "reject", response_model=ReferralPublic, responses=_ACTION_ERRORS)
async def reject_referral(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteReferrals,
    referral_id: uuid.UUID,
    body: ReferralReject,
) -> ReferralPublic:
    """The receiving agency rejects a pending or waitlisted referral, with a reason code."""
    return await lifecycle.act(session, keys, principal, referral_id, "reject", body)


@router.post(_ACTION + "complete", response_model=ReferralPublic, responses=_ACTION_ERRORS)
async def complete_referral(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteReferrals,
    referral_id: uuid.UUID,
    body: ReferralComplete,
) -> ReferralPublic:
    """The receiving agency completes an accepted referral with the outcome and the
    services delivered; its participation ends."""
    return await lifecycle.act(session, keys, principal, referral_id, "complete", body)


@router.post(_ACTION + "cancel", response_model=ReferralPublic, responses=_ACTION_ERRORS)
async def cancel_referral(
    session: SessionDep,
    keys: KeysDep,
    principal: WriteReferrals,
    referral_id: uuid.UUID,
    body: ReferralCancel | None = None,
) -> ReferralPublic:
    """The sending agency cancels a pending, waitlisted or accepted referral; access ends."""
    return await lifecycle.act(session, keys, principal, referral_id, "cancel", body)


@router.get("/api/v1/cases/{case_id}/disclosures", response_model=Page[DisclosurePublic])
async def list_disclosures(
    session: SessionDep, principal: ReadAccessLog, case_id: uuid.UUID, params: Paging
) -> Page[DisclosurePublic]:
    """Which agency was given which fields of this case, when, why and on which legal
    basis: the accounting of disclosures the person can be given (supervisors)."""
    items, cursor = await read.list_disclosures(session, principal, case_id, params)
    return Page(items=items, next_cursor=cursor)


@router.get(
    "/api/v1/cases/{case_id}/participants",
    response_model=Page[ParticipantPublic],
    responses=problem_responses(403),
)
async def list_participants(
    session: SessionDep, principal: ReadCases, case_id: uuid.UUID, params: Paging
) -> Page[ParticipantPublic]:
    """The lead agency, former leads and participating agencies of the case, with the
    referral that made each one and whether it is active (lead and former leads)."""
    items = await participants.list_participants(session, principal, case_id)
    page, cursor = page_in_memory(items, params)
    return Page(items=page, next_cursor=cursor)
