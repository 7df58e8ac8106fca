"""The agencies on a case: its lead, the leads before a transfer, and the participants
its accepted referrals made (`GET /api/v1/cases/{id}/participants`).

Rules:
- Read by the lead and former leads (`participant.list`); a participant gets 403
  (which other agencies take part is not among its shared fields); audited.
- A participant's `since` is when it accepted, `until` when the referral was
  completed or cancelled or the consent it rests on was withdrawn or expired; it is
  `active` exactly when the access rule (`app.services.cases.access`) grants it.
- The lead's `since` is the intake, or the accepted transfer that made it the lead.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.models import Agency, Referral
from app.models.referral import ReferralPurpose, ReferralStatus
from app.schemas.referrals import ParticipantPublic
from app.security.principal import Principal
from app.services.cases.access import get_granted_case

ACTION = "participant.list"
_ANSWERED = (
    ReferralStatus.ACCEPTED.value,
    ReferralStatus.COMPLETED.value,
    ReferralStatus.CANCELLED.value,
)


async def list_participants(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> list[ParticipantPublic]:
    """The lead, the former leads and the participants, oldest first (module rules)."""
    case = (await get_granted_case(session, principal, case_id, action=ACTION)).case
    now = datetime.now(UTC)
    rows = (
        await session.execute(
            select(Referral, col(Agency.kind))
            .join(Agency, col(Agency.id) == col(Referral.to_agency_id))
            .where(
                col(Referral.case_id) == case.id,
                col(Referral.decided_at).is_not(None),
                col(Referral.status).in_(_ANSWERED),
            )
            .order_by(col(Referral.decided_at), col(Referral.id))
        )
    ).all()
    kinds = dict(
        (
            await session.execute(
                select(col(Agency.id), col(Agency.kind)).where(
                    col(Agency.id).in_({case.owner_agency_id} | {r.from_agency_id for r, _ in rows})
                )
            )
        ).all()
    )
    items: list[ParticipantPublic] = []
    lead_since: datetime | None = case.created_at
    lead_referral: uuid.UUID | None = None
    for referral, kind in rows:
        if referral.purpose == ReferralPurpose.TRANSFER.value:
            items.append(
                ParticipantPublic(
                    agency_id=referral.from_agency_id,
                    agency_kind=kinds[referral.from_agency_id],
                    role="former_lead",
                    referral_id=lead_referral,
                    since=lead_since,
                    until=referral.decided_at,
                    active=False,
                )
            )
            lead_since, lead_referral = referral.decided_at, referral.id
            continue
        ends = referral.basis_ends_at
        lapsed = ends if ends is not None and ends <= now else None
        ended = referral.completed_at or referral.cancelled_at
        until = min((t for t in (ended, lapsed) if t is not None), default=None)
        items.append(
            ParticipantPublic(
                agency_id=referral.to_agency_id,
                agency_kind=kind,
                role=referral.purpose,
                referral_id=referral.id,
                since=referral.decided_at,
                until=until,
                active=referral.status == ReferralStatus.ACCEPTED.value and lapsed is None,
            )
        )
    lead = ParticipantPublic(
        agency_id=case.owner_agency_id,
        agency_kind=kinds[case.owner_agency_id],
        role="lead",
        referral_id=lead_referral,
        since=lead_since,
        until=None,
        active=True,
    )
    await audit.record(
        session,
        action=ACTION,
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
    )
    return [lead, *items]
