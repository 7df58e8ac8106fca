"""What the law requires at once when a case opens, beyond recording it.

Rules:
- A minor's case (a minor by date of birth or estimate, or presumed one while the age
  is unknown) is notified to the child-protection function of the reception province:
  a `notification` referral on the `legal_obligation` basis to the province's active
  agency whose kind has the `child_protection` function (agency kinds carry their
  functions as data). It stays in the receiver's "action needed" inbox until answered.
  When the lead agency holds that function itself, the timeline records the handover
  inside the agency instead; when no agency of the province holds it, the timeline
  records that none could be notified, for the province to fix its agency data.
  A case that becomes a minor's later (a date of birth or an age correction) is
  notified then, once.
- A case a commune receives is notified at once to the province's social-affairs lead
  (the `verify_lead` function), the same way.
- An intake by any other body may record the commune it brought the person to and
  when (`brought_to_commune`); the commune itself never does. It shows on the
  timeline at the time the person was brought, with the agency that brought them.
- A notification shares the case skeleton only (number, dates, place, age flags,
  sex): identity goes on a referral with its own basis.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import get_settings
from app.domain import admin_units
from app.models import Agency, AgencyKind, Case, Referral
from app.models.referral import LegalBasis, ReferralPurpose, SharedField
from app.schemas.case import CommuneArrival
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import timeline

CHILD_PROTECTION = "child_protection"
SOCIAL_AFFAIRS_LEAD = "verify_lead"
COMMUNE_KIND = "commune"
# A clock a little ahead of ours must not make a just-made record "in the future".
CLOCK_SKEW = timedelta(minutes=5)

_F = SharedField
_SKELETON = [
    _F.CASE_NUMBER.value,
    _F.CASE_INTAKE_SOURCE.value,
    _F.CASE_RECEIVED_AT.value,
    _F.CASE_RECEIVED_LOCATION.value,
    _F.CASE_IS_CHILD.value,
    _F.CASE_IS_MINOR.value,
    _F.VICTIM_SEX.value,
]


async def after_intake(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    arrival: CommuneArrival | None,
) -> None:
    """The module's rules for a case just recorded (flushed) by `principal`."""
    if arrival is not None:
        await record_arrival(session, principal, case, arrival)
    if case.is_minor:
        await notify(session, keys, principal, case, CHILD_PROTECTION)
    if principal.agency_kind == COMMUNE_KIND:
        await notify(session, keys, principal, case, SOCIAL_AFFAIRS_LEAD)


def arrival_errors(
    principal: Principal, case_province: str, received_at: datetime, arrival: CommuneArrival | None
) -> list[dict[str, str]]:
    """What is wrong with a `brought_to_commune` (field errors; none when absent): the
    commune is one of the reception province."""
    if arrival is None:
        return []
    field = "brought_to_commune"
    if principal.agency_kind == COMMUNE_KIND:
        return [{"field": field, "message": "the commune itself received the person"}]
    if not admin_units.is_commune_of(arrival.commune_code, case_province):
        return [
            {
                "field": f"{field}.commune_code",
                "message": "must be a commune of the reception province since 2025",
            }
        ]
    if arrival.brought_at > datetime.now(UTC) + CLOCK_SKEW:
        return [{"field": f"{field}.brought_at", "message": "must not be in the future"}]
    if arrival.brought_at < received_at:
        return [{"field": f"{field}.brought_at", "message": "is before received_at"}]
    return []


async def record_arrival(
    session: AsyncSession, principal: Principal, case: Case, arrival: CommuneArrival
) -> None:
    case.brought_to_commune_code = arrival.commune_code
    case.brought_to_commune_at = arrival.brought_at
    await timeline.append(
        session,
        case.id,
        "brought_to_commune",
        principal=principal,
        detail=arrival.commune_code,
        occurred_at=arrival.brought_at,
    )


async def _holder(session: AsyncSession, province_code: str, function: str) -> Agency | None:
    """The province's active agency holding `function` (the oldest, when several do)."""
    statement = (
        select(Agency)
        .join(AgencyKind, col(AgencyKind.code) == col(Agency.kind))
        .where(
            col(Agency.province_code) == province_code,
            col(Agency.is_active).is_(True),
            literal(function) == any_(col(AgencyKind.functions)),
        )
        .order_by(col(Agency.created_at), col(Agency.id))
    )
    return (await session.execute(statement)).scalars().first()


async def _notified(session: AsyncSession, case: Case, agency: Agency) -> bool:
    found = await session.execute(
        select(col(Referral.id)).where(
            col(Referral.case_id) == case.id,
            col(Referral.to_agency_id) == agency.id,
            col(Referral.purpose) == ReferralPurpose.NOTIFICATION.value,
        )
    )
    return found.first() is not None


async def notify(
    session: AsyncSession, keys: KeyProvider, principal: Principal, case: Case, function: str
) -> None:
    """Notify the province's holder of `function` of `case` (module rules), once."""
    from app.services.referrals.create import record_referral

    agency = await _holder(session, case.province_code, function)
    if agency is None:
        await timeline.append(
            session, case.id, "notification_undeliverable", principal=principal, detail=function
        )
        return
    if agency.id == principal.agency_id or agency.id == case.owner_agency_id:
        await timeline.append(
            session,
            case.id,
            "notified_within_agency",
            principal=principal,
            ref_type="agency",
            ref_id=agency.id,
            detail=function,
        )
        return
    if await _notified(session, case, agency):
        return
    now = datetime.now(UTC)
    await record_referral(
        session,
        keys,
        principal,
        case,
        to_agency_id=agency.id,
        purpose=ReferralPurpose.NOTIFICATION,
        services=[],
        shared_fields=list(_SKELETON),
        basis=LegalBasis.LEGAL_OBLIGATION,
        due_at=now + timedelta(days=get_settings().referral_due_days),
        now=now,
    )
