"""Who reaches which referral, and what the receiving agency may see of the case.

Rules:
- A referral is visible to the users of the sending and the receiving agency who hold
  `referrals:read`; to anyone else it answers 404 (a denied audit row when it exists).
- Through the referral the receiver reads only the shared fields (once it accepts,
  it is a participant of the case with the same fields, `app.services.cases.access`).
  That access is `active` while the referral is pending, waitlisted or accepted and
  its legal basis holds (for `consent`: the consent is in
  force now, checked at every read, so a withdrawal cuts access at once);
  `suspended` when the consent no longer holds; `ended` once the referral is
  rejected, completed, cancelled or expired.
- A pending referral past its due date is `expired` from that moment, whether or not
  the sweep (`lifecycle.expire_due`) has flipped the row yet.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import CaseConsent, Referral
from app.models.case_records import ConsentScope, ConsentStatus
from app.models.referral import ReferralStatus
from app.schemas.referrals import ReferralAccess
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.reach import load_readable

OPEN = frozenset(
    {
        ReferralStatus.PENDING.value,
        ReferralStatus.WAITLISTED.value,
        ReferralStatus.ACCEPTED.value,
    }
)


def visible_referrals(principal: Principal) -> Select[Any]:
    """SELECT of the referrals this principal may see (sent or received by its agency)."""
    statement = select(Referral)
    if not principal.can(Permission.REFERRALS_READ):
        return statement.where(false())
    return statement.where(
        or_(
            col(Referral.from_agency_id) == principal.agency_id,
            col(Referral.to_agency_id) == principal.agency_id,
        )
    )


async def load_visible(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    action: str,
    for_update: bool = False,
) -> Referral:
    """The referral, or 404 (with a denied audit row when it exists out of reach)."""
    referral: Referral = await load_readable(
        session,
        principal,
        visible_referrals(principal),
        col(Referral.id),
        referral_id,
        resource_type="referral",
        action=action,
        for_update=for_update,
    )
    return referral


def effective_status(referral: Referral, now: datetime) -> ReferralStatus:
    """The stored status, except that a pending referral past due is expired."""
    if referral.status == ReferralStatus.PENDING.value and referral.due_at <= now:
        return ReferralStatus.EXPIRED
    return ReferralStatus(referral.status)


def is_overdue(referral: Referral, now: datetime) -> bool:
    """Still open past its due date; a waitlisted one, past its expected date."""
    if referral.status == ReferralStatus.WAITLISTED.value and referral.expected_at:
        return referral.expected_at <= now
    return referral.status in OPEN and referral.due_at <= now


async def consent_in_force(
    session: AsyncSession, consent_id: uuid.UUID, case_id: uuid.UUID, at: datetime
) -> CaseConsent | None:
    """The consent, if it is this case's `data_sharing` consent, given, not withdrawn
    and not expired at `at`."""
    row = (
        await session.execute(
            select(CaseConsent).where(
                col(CaseConsent.id) == consent_id,
                col(CaseConsent.case_id) == case_id,
                col(CaseConsent.scope) == ConsentScope.DATA_SHARING.value,
            )
        )
    ).scalar_one_or_none()
    in_force = (
        row is not None
        and row.status == ConsentStatus.ACTIVE.value
        and row.given_at <= at
        and (row.expires_at is None or row.expires_at > at)
    )
    return row if in_force else None


def access_state(referral: Referral, now: datetime) -> ReferralAccess:
    """The receiving agency's access to the shared fields at `now` (module rules): the
    basis holds until `basis_ends_at` (the consent's expiry or withdrawal), the same
    column the case access rule reads."""
    if effective_status(referral, now).value not in OPEN:
        return ReferralAccess.ENDED
    if referral.basis_ends_at is not None and referral.basis_ends_at <= now:
        return ReferralAccess.SUSPENDED
    return ReferralAccess.ACTIVE
