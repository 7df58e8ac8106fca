"""The right of access: a person's own data, in clear, against an open `access`
request of the register (`app.services.data_requests`).

Rules:
- Only the lead agency of the request's case (action `data_request.export`, which no
  participant role holds); anyone else gets 404. The request is the one named by
  `data_request_id`, or, when none is named, the person's one open `access` request
  in a case the caller's agency leads (404 when there is none, 422 when several).
- The request must be of this person (else 422), of kind `access` (else 422) and
  open (else 409).
- The export holds the identity in clear, the case's steps (the timeline's kinds and
  statuses, never its notes), the person's services, the consents (of the victim)
  and every agency the case's data was disclosed to (the referrals: the accounting
  of disclosures; for a person other than the victim, none are listed, as referrals
  carry the victim's fields).
- It is a disclosure to the person: audited (`person.export`, the identity fields
  and the request as the reason).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.data_requests import RequestKind, RequestStatus
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Agency, Case, CaseConsent, CaseTimelineEntry, DataRequest, Referral
from app.models.support import SupportService
from app.schemas.data_request import (
    ExportCase,
    ExportConsent,
    ExportDisclosure,
    ExportIdentity,
    ExportService,
    ExportStep,
    PersonExport,
)
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services import persons
from app.services.cases.access import get_granted_case

ACTION = "data_request.export"
IDENTITY = tuple(name for name in ExportIdentity.model_fields if name != "erased")


class RequestNotOpen(Conflict):
    slug = "data-request-not-open"
    title_en, title_vi = ("The request is not open", "Yêu cầu không còn mở")


async def _request(
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    data_request_id: uuid.UUID | None,
) -> DataRequest:
    if data_request_id is not None:
        row = await session.get(DataRequest, data_request_id)
        if row is None:
            raise NotFound()
        return row
    rows = (
        (
            await session.execute(
                select(DataRequest)
                .join(Case, col(Case.id) == col(DataRequest.case_id))
                .where(
                    col(DataRequest.person_id) == person_id,
                    col(DataRequest.kind) == RequestKind.ACCESS.value,
                    col(DataRequest.status) == RequestStatus.OPEN.value,
                    col(Case.owner_agency_id) == principal.agency_id,
                )
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        raise NotFound()
    if len(rows) > 1:
        raise ValidationFailed(
            [{"field": "data_request_id", "message": "several open access requests: name one"}]
        )
    return rows[0]


async def _names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    found = await session.execute(
        select(col(Agency.id), col(Agency.name)).where(col(Agency.id).in_(ids))
    )
    return {row[0]: row[1] for row in found.all()}


async def export(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    person_id: uuid.UUID,
    data_request_id: uuid.UUID | None,
) -> PersonExport:
    """The person's own data (module rules)."""
    request = await _request(session, principal, person_id, data_request_id)
    case = (await get_granted_case(session, principal, request.case_id, action=ACTION)).case
    if request.person_id != person_id:
        raise ValidationFailed(
            [{"field": "data_request_id", "message": "is a request of another person"}]
        )
    if request.kind != RequestKind.ACCESS.value:
        raise ValidationFailed(
            [{"field": "data_request_id", "message": "is not an access request"}]
        )
    if request.status != RequestStatus.OPEN.value:
        raise RequestNotOpen("The access request is closed; record a new one.")
    view = await persons.read_person(session, keys, person_id, reveal=True, actor=principal)
    identity = ExportIdentity(
        erased=view.erased, **{name: getattr(view, name) for name in IDENTITY}
    )
    steps = (
        await session.execute(
            select(CaseTimelineEntry)
            .where(col(CaseTimelineEntry.case_id) == case.id)
            .order_by(col(CaseTimelineEntry.occurred_at), col(CaseTimelineEntry.id))
        )
    ).scalars()
    services = list(
        (
            await session.execute(
                select(SupportService)
                .where(
                    col(SupportService.case_id) == case.id,
                    col(SupportService.person_id) == person_id,
                )
                .order_by(col(SupportService.service_date))
            )
        ).scalars()
    )
    victim = person_id == case.victim_person_id
    consents = (
        list(
            (
                await session.execute(
                    select(CaseConsent)
                    .where(col(CaseConsent.case_id) == case.id)
                    .order_by(col(CaseConsent.given_at))
                )
            ).scalars()
        )
        if victim
        else []
    )
    referrals = (
        list(
            (
                await session.execute(
                    select(Referral)
                    .where(col(Referral.case_id) == case.id)
                    .order_by(col(Referral.created_at))
                )
            ).scalars()
        )
        if victim
        else []
    )
    names = await _names(
        session,
        {r.to_agency_id for r in referrals}
        | {s.provider_agency_id for s in services if s.provider_agency_id},
    )
    answer = PersonExport(
        data_request_id=request.id,
        person_id=person_id,
        generated_at=datetime.now(UTC),
        identity=identity,
        case=ExportCase(
            id=case.id,
            case_number=case.case_number,
            status=case.status,
            received_at=case.received_at,
        ),
        steps=[
            ExportStep(
                occurred_at=s.occurred_at,
                kind=s.kind,
                from_status=s.from_status,
                to_status=s.to_status,
            )
            for s in steps
        ],
        services=[
            ExportService(
                type=s.type,
                service_date=s.service_date,
                quantity=s.quantity,
                unit=s.unit,
                status=s.status,
                provider=names.get(s.provider_agency_id) if s.provider_agency_id else None,
            )
            for s in services
        ],
        consents=[
            ExportConsent(
                scope=c.scope,
                given_by=c.given_by,
                given_at=c.given_at,
                expires_at=c.expires_at,
                status=c.status,
                withdrawn_at=c.withdrawn_at,
            )
            for c in consents
        ],
        disclosures=[
            ExportDisclosure(
                agency_id=r.to_agency_id,
                agency=names.get(r.to_agency_id, ""),
                purpose=r.purpose,
                legal_basis=r.legal_basis,
                shared_fields=list(r.shared_fields),
                disclosed_at=r.created_at,
            )
            for r in referrals
        ],
    )
    await audit.record(
        session,
        action="person.export",
        resource_type="person",
        resource_id=person_id,
        principal=principal,
        person_id=person_id,
        fields=IDENTITY,
        reason=f"data_request:{request.id}",
    )
    return answer
