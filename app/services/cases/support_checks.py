"""The checks a support service passes when it is requested and at each later step:
entitlement (re-checked at approve and deliver), one-off supports, the essential-needs
cap by unit and who may extend it, the provider and the amount (rate, receipt or
override), four eyes. The rules are data in
`app.domain.entitlements` and `app.domain.support_money`; the steps that call these
are in `app.services.cases.support`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.entitlements import (
    SUPPORTED_ROLES,
    PersonSituation,
    SupportType,
    entitlement,
    no_support_reason,
)
from app.domain.participation import service_function_refusal
from app.domain.support_money import (
    ACTUAL_COST,
    CAP_DAYS_PER_UNIT,
    CAP_EXTENSION_FACILITY,
    CAP_EXTENSION_LEAD,
    ESSENTIAL_NEEDS_MAX_DAYS,
    LEGACY_DAYS_PER_UNIT,
    ONE_OFF,
)
from app.errors import Conflict, DeniedForbidden, ValidationFailed
from app.i18n import msg
from app.models import Agency, Case, CasePerson, Person
from app.models.support import SupportRate, SupportService, SupportStatus
from app.schemas.support import SupportServiceCreate
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.agency_functions import agency_functions
from app.services.support_rates import rate_in_force

RESIDENT_NATIONALITIES = frozenset({"VN", "XX"})
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
COUNTED = (
    SupportStatus.REQUESTED.value,
    SupportStatus.APPROVED.value,
    SupportStatus.DELIVERED.value,
)
ONE_OFF_INDEX = "ux_support_services_one_off"


class FourEyesRequired(DeniedForbidden):
    """403: the person who requested a support (and so set or overrode its amount, or
    extended its cap) may not also decide on it or deliver it. Commits its audit row."""

    slug = "four-eyes-required"
    title_en, title_vi = (
        "Another person must take this step",
        "Bước này phải do người khác thực hiện",
    )


class OneOffSupportGiven(Conflict):
    """409: a one-off support is already requested, approved or delivered for the
    person; the body names it (`support_service_id`)."""

    slug = "one-off-support-given"
    title_en, title_vi = (
        "This support is given once per person",
        "Khoản hỗ trợ này chỉ được hưởng một lần",
    )


class SupportNotDue(Conflict):
    """409: the person is no longer entitled to the support (the case moved on since it
    was requested, e.g. a `not_victim` decision); the body names the rule."""

    slug = "support-not-due"
    title_en, title_vi = (
        "The person is no longer entitled to this support",
        "Người này không còn được hưởng khoản hỗ trợ này",
    )


def unprocessable(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": message}], detail=message)


async def situation(
    session: AsyncSession, case: Case, person_id: uuid.UUID
) -> tuple[PersonSituation | None, str | None]:
    """The person's situation under the law, or (None, role) for a role given no
    support, or (None, None) when the person is not a person of the case."""
    row = (
        await session.execute(
            select(col(CasePerson.role), col(Person.nationality))
            .join(Person, col(Person.id) == col(CasePerson.person_id))
            .where(col(CasePerson.case_id) == case.id, col(CasePerson.person_id) == person_id)
        )
    ).one_or_none()
    if row is None:
        return None, None
    role, nationality = row
    if role not in SUPPORTED_ROLES:
        return None, role
    return (
        PersonSituation(
            is_accompanying_minor=role == "minor",
            case_status=case.status,
            vietnamese_or_stateless_resident=nationality is None
            or nationality in RESIDENT_NATIONALITIES,
            currently_abroad=case.currently_abroad,
        ),
        role,
    )


async def why_not_due(
    session: AsyncSession, case: Case, person_id: uuid.UUID, type_: str
) -> tuple[str, str] | None:
    """None when the person is entitled to `type_` now, else (field, the rule)."""
    found, role = await situation(session, case, person_id)
    if found is None:
        if role is None:
            return "person_id", "is not a person of this case"
        return "person_id", no_support_reason(role)
    decision = entitlement(found, SupportType(type_))
    if decision.allowed:
        return None
    return "type", decision.reason or msg("not entitled")


async def recheck_entitlement(
    session: AsyncSession, case: Case, service: SupportService, action: str
) -> None:
    """At approve and deliver: the entitlement still holds today, else 409 naming the
    rule (the case may have moved, e.g. to `not_identified`, since the request)."""
    why = await why_not_due(session, case, service.person_id, service.type)
    if why is None:
        return
    _, rule = why
    raise SupportNotDue(
        msg(
            "Cannot {action}: support '{support}' is no longer due ({rule}).",
            action=action,
            support=service.type,
            rule=rule,
        ),
        extra={"rule": "entitlement", "case_status": case.status},
    )


async def check_four_eyes(
    session: AsyncSession, principal: Principal, service: SupportService, action: str
) -> None:
    """Whoever requested a support (and so set its amount, override, receipt or cap
    extension) may not approve, reject or deliver it: 403, audited."""
    if service.requested_by != principal.actor_id:
        return
    await audit.record(
        session,
        action=f"support_service.{action}",
        resource_type="support_service",
        resource_id=service.id,
        principal=principal,
        outcome="denied",
        reason="four_eyes",
    )
    raise FourEyesRequired(
        msg(
            "You requested this support (its amount is yours), so another person must "
            "{action} it: four eyes on every support's money.",
            action=action,
        )
    )


async def first_one_off(
    session: AsyncSession, person_id: uuid.UUID, type_: str
) -> uuid.UUID | None:
    """The person's one-off support of `type_` that is not rejected or cancelled."""
    return (
        await session.execute(
            select(col(SupportService.id)).where(
                col(SupportService.person_id) == person_id,
                col(SupportService.type) == type_,
                col(SupportService.status).in_(COUNTED),
            )
        )
    ).scalar_one_or_none()


def one_off_given(type_: str, first: uuid.UUID) -> OneOffSupportGiven:
    return OneOffSupportGiven(
        msg(
            "'{support}' is given once per person; this person already has it "
            "(support service {id}).",
            support=type_,
            id=first,
        ),
        extra={"support_service_id": str(first)},
    )


async def check_one_off(session: AsyncSession, person_id: uuid.UUID, type_: str) -> None:
    """409 naming the first when a one-off support is already held by the person."""
    if SupportType(type_) not in ONE_OFF:
        return
    first = await first_one_off(session, person_id, type_)
    if first is not None:
        raise one_off_given(type_, first)


async def insert_service(session: AsyncSession, service: SupportService) -> None:
    """Insert the row; a concurrent request that took the person's one-off support
    first (the partial unique index) is the same 409 naming it."""
    try:
        async with session.begin_nested():
            session.add(service)
            await session.flush()
    except IntegrityError as error:
        if ONE_OFF_INDEX not in str(error.orig):
            raise
        first = await first_one_off(session, service.person_id, service.type)
        if first is None:  # the other request was rolled back meanwhile
            raise
        raise one_off_given(service.type, first) from None


def cap_days(unit: str) -> int:
    """Days one unit counts for under the essential-needs cap."""
    return CAP_DAYS_PER_UNIT.get(unit, LEGACY_DAYS_PER_UNIT)


async def days_used(session: AsyncSession, case_id: uuid.UUID, person_id: uuid.UUID) -> int:
    """Essential-needs days counted for the person in the case (requested, approved
    and delivered rows)."""
    rows = (
        await session.execute(
            select(col(SupportService.unit), func.sum(col(SupportService.quantity)))
            .where(
                col(SupportService.case_id) == case_id,
                col(SupportService.person_id) == person_id,
                col(SupportService.type) == SupportType.ESSENTIAL_NEEDS.value,
                col(SupportService.status).in_(COUNTED),
            )
            .group_by(col(SupportService.unit))
        )
    ).all()
    return sum(cap_days(unit) * int(total) for unit, total in rows)


def cap_extender(
    principal: Principal,
    *,
    lead: bool,
    functions: Iterable[str],
    provider_agency_id: uuid.UUID | None,
) -> str | None:
    """Who the caller may extend the essential-needs cap as: `lead`, a supervisor of
    the lead agency whose kind has `CAP_EXTENSION_LEAD`; `facility`, a supervisor of
    the agency providing them (`provider_agency_id`, the lead's own agency when it
    gives them itself) whose kind has `CAP_EXTENSION_FACILITY`; else None."""
    if not principal.can(Permission.CASES_APPROVE):
        return None
    held = set(functions)
    if lead and CAP_EXTENSION_LEAD in held:
        return "lead"
    if provider_agency_id == principal.agency_id and CAP_EXTENSION_FACILITY in held:
        return "facility"
    return None


def cap_message(used: int) -> str:
    return msg(
        "essential needs are capped at {days} days per person ({used} already counted); "
        "a supervisor of the lead social-affairs agency or of the facility providing them "
        "may extend it with extension_reason",
        days=ESSENTIAL_NEEDS_MAX_DAYS,
        used=used,
    )


async def provider_province(
    session: AsyncSession, principal: Principal, data: SupportServiceCreate, province: str
) -> str:
    """Check the provider the request names; the province whose rates price it."""
    if not data.provider_agency_id:
        return province
    provider = await session.get(Agency, data.provider_agency_id)
    if provider is None:
        raise unprocessable("provider_agency_id", "unknown agency")
    # The caller's own agency was checked already, as lead or as participant.
    if provider.id != principal.agency_id:
        functions = await agency_functions(session, provider.id)
        unable = service_function_refusal(data.type.value, functions)
        if unable is not None:
            raise unprocessable(
                "provider_agency_id",
                msg("must be an agency with the '{function}' function", function=unable.function),
            )
    return provider.province_code or province


async def price(
    session: AsyncSession, data: SupportServiceCreate, province: str
) -> tuple[int, SupportRate | None]:
    """The amount and the rate it comes from (module rules)."""
    if data.amount_vnd is not None:
        return data.amount_vnd, None
    rate = await rate_in_force(
        session, province, data.type.value, data.service_date, unit=data.unit.value
    )
    where = {
        "support": data.type.value,
        "unit": data.unit.value,
        "date": data.service_date.isoformat(),
        "province": province,
    }
    if data.receipt is not None:
        if data.type not in ACTUAL_COST:
            raise unprocessable(
                "receipt",
                msg(
                    "only {supports} are paid at actual cost",
                    supports=", ".join(sorted(t.value for t in ACTUAL_COST)),
                ),
            )
        if rate is not None:
            raise unprocessable(
                "receipt",
                msg(
                    "a rate is in force for '{support}' per '{unit}' on {date} in province "
                    "{province} or nationally: the rate applies",
                    **where,
                ),
            )
        if data.receipt.date > datetime.now(VIETNAM).date():
            raise unprocessable("receipt.date", "must not be in the future")
        return data.receipt.amount_vnd, None
    if rate is None:
        raise unprocessable(
            "type",
            msg(
                "no rate is in force for '{support}' per '{unit}' on {date} in province "
                "{province} or nationally; give the receipt (actual cost), or a supervisor "
                "may set amount_vnd with override_reason",
                **where,
            )
            if data.type in ACTUAL_COST
            else msg(
                "no rate is in force for '{support}' per '{unit}' on {date} in province "
                "{province} or nationally; a supervisor may set amount_vnd with "
                "override_reason",
                **where,
            ),
        )
    if rate.max_units is not None and data.quantity > rate.max_units:
        raise unprocessable(
            "quantity",
            msg("the rate in force allows at most {units} units", units=rate.max_units),
        )
    return rate.amount_vnd * data.quantity, rate
