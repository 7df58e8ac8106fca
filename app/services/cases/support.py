"""Support services of a case: requested, approved (or rejected), delivered, cancelled.

Rules:
- The person must be a person of the case (the victim when none is named) and
  entitled to the support under `app.domain.entitlements`, from the case status, the
  person's role (victim, or accompanying minor), nationality and whether the case
  says they are still abroad. Otherwise 422 with the law's reason.
  Nationality: `VN`, and `XX` (our code for a stateless person resident in Vietnam),
  count as Vietnamese or stateless resident; so does a nationality not yet recorded,
  because almost every case is a Vietnamese victim and an unrecorded field must not
  cut a person off from supports (the foreign list is a subset for the early ones).
  Any other code counts as foreign. Relatives, people who help and witnesses are
  protected (`app.services.cases.protection`) but entitled to no support: 422 naming
  the rule (`entitlements.SUPPORTED_ROLES`).
- Essential needs: at most 120 days per person per case, counting the requested,
  approved and delivered rows (a month counts 30 days). More needs a supervisor
  (`cases:approve`) giving `extension_reason`; without one it is 422.
- Amount: the rate in force on the service date (the case's province, else national,
  same type and unit) times the quantity; a quantity above the rate's `max_units` is
  422. No rate is 422, unless a supervisor sets `amount_vnd` with `override_reason`.
  `amount_vnd` or `extension_reason` from anyone else is 403 (a denied audit row).
- A participating agency (an accepted `support` or `repatriation` referral, see
  `app.services.cases.access`) records the services its referral names and its agency
  kind may deliver (else 403 naming what is missing): it is their provider, the
  referral naming the service is the lead's approval (status `approved`, `referral_id`
  set), it cannot set amounts or extend the cap, and it sees, delivers and cancels
  only the services it provides (others are 404 to it).
- The lead requests, approves and delivers only the types its agency kind may
  deliver (`app.domain.participation.SERVICE_FUNCTIONS`: a loan needs `loans`, legal
  aid `legal_aid`, medical care `medical_support` or `support`, essential needs and
  travel `support` or `first_support`, the rest `support`), else 403
  `agency-function-required`; other types go to a provider by a referral. A provider
  the lead names must be able to deliver the type, else 422. Rejecting and
  cancelling need no function.
- Amounts use the rates of the province where the service is delivered: the
  provider agency's province, else the case's current province (it moves with a
  transfer); the service keeps that province for the returns.
- Status: requested -> approved | rejected (a supervisor of the owning agency;
  rejection needs a reason); approved -> delivered; requested | approved ->
  cancelled. Anything else is 409. Each step locks the case row (no double approval),
  appends a timeline entry `support_<status>` and an audit event
  `support_service.<action>`. Reasons are encrypted under the victim's data key.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.entitlements import (
    CAPPED_TYPES,
    ESSENTIAL_NEEDS_MAX_DAYS,
    SUPPORTED_ROLES,
    PersonSituation,
    SupportType,
    entitlement,
    no_support_reason,
)
from app.domain.participation import service_function_refusal, service_refusal
from app.errors import Conflict, DeniedForbidden, NotFound, ValidationFailed
from app.models import Agency, Case, CasePerson, Person
from app.models.support import SupportService, SupportStatus, SupportUnit
from app.schemas.support import SupportServiceCreate
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.agency_functions import agency_functions
from app.services.cases import timeline
from app.services.cases.access import get_granted_case, refuse
from app.services.cases.case_text import seal_text
from app.services.pagination import PageParams, page_of, paginate
from app.services.support_rates import rate_in_force

RESIDENT_NATIONALITIES = frozenset({"VN", "XX"})
# Days each unit counts for under the essential-needs cap.
_CAP_DAYS = {SupportUnit.DAY.value: 1, SupportUnit.MONTH.value: 30}
_OPEN = (SupportStatus.REQUESTED.value, SupportStatus.APPROVED.value)
_COUNTED = (*_OPEN, SupportStatus.DELIVERED.value)

S = SupportStatus
# action -> (statuses it starts from, status it leads to)
MOVES: dict[str, tuple[frozenset[str], SupportStatus]] = {
    "approve": (frozenset({S.REQUESTED.value}), S.APPROVED),
    "reject": (frozenset({S.REQUESTED.value}), S.REJECTED),
    "deliver": (frozenset({S.APPROVED.value}), S.DELIVERED),
    "cancel": (frozenset(_OPEN), S.CANCELLED),
}
_DECISIONS = frozenset({"approve", "reject"})
# The steps by which the lead gives a support, which need a function that may give it.
_LEAD_DOES = frozenset({"approve", "deliver"})


def _unprocessable(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": message}], detail=message)


async def _deny(
    session: AsyncSession,
    principal: Principal,
    action: str,
    resource: tuple[str, uuid.UUID],
    why: str,
) -> DeniedForbidden:
    resource_type, resource_id = resource
    await audit.record(
        session,
        action=f"support_service.{action}",
        resource_type=resource_type,
        resource_id=resource_id,
        principal=principal,
        outcome="denied",
        reason="missing_permission:cases:approve",
    )
    return DeniedForbidden(why)


async def _situation(
    session: AsyncSession, case: Case, person_id: uuid.UUID
) -> tuple[PersonSituation | None, str]:
    row = (
        await session.execute(
            select(col(CasePerson.role), col(Person.nationality))
            .join(Person, col(Person.id) == col(CasePerson.person_id))
            .where(col(CasePerson.case_id) == case.id, col(CasePerson.person_id) == person_id)
        )
    ).one_or_none()
    if row is None:
        raise _unprocessable("person_id", "is not a person of this case")
    role, nationality = row
    if role not in SUPPORTED_ROLES:
        return None, role
    situation = PersonSituation(
        is_accompanying_minor=role == "minor",
        case_status=case.status,
        vietnamese_or_stateless_resident=nationality is None
        or nationality in RESIDENT_NATIONALITIES,
        currently_abroad=case.currently_abroad,
    )
    return situation, role


async def _days_used(session: AsyncSession, case_id: uuid.UUID, person_id: uuid.UUID) -> int:
    rows = (
        await session.execute(
            select(col(SupportService.unit), func.sum(col(SupportService.quantity)))
            .where(
                col(SupportService.case_id) == case_id,
                col(SupportService.person_id) == person_id,
                col(SupportService.type).in_([t.value for t in CAPPED_TYPES]),
                col(SupportService.status).in_(_COUNTED),
            )
            .group_by(col(SupportService.unit))
        )
    ).all()
    return sum(_CAP_DAYS.get(unit, 0) * int(total) for unit, total in rows)


async def create_service(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    data: SupportServiceCreate,
) -> SupportService:
    """Request a support for a person of the case (rules in the module docstring)."""
    granted = await get_granted_case(
        session, principal, case_id, action="support_service.create", for_update=True
    )
    case, grant = granted.case, granted.grant
    participation = None
    if grant.lead:
        why = service_function_refusal(data.type.value, grant.functions)
        if why is not None:
            raise await refuse(session, principal, case.id, "support_service.create", why)
    else:
        why = service_refusal(data.type.value, grant.participations, grant.functions)
        if why is not None:
            raise await refuse(session, principal, case.id, "support_service.create", why)
        participation = grant.referral_naming(data.type.value)
        if data.provider_agency_id not in (None, principal.agency_id):
            raise _unprocessable(
                "provider_agency_id", "a participating agency records its own services"
            )
        data = data.model_copy(update={"provider_agency_id": principal.agency_id})
    service_id = uuid.uuid4()
    supervisor = principal.can(Permission.CASES_APPROVE) and grant.lead
    if not supervisor and (data.amount_vnd is not None or data.extension_reason):
        raise await _deny(
            session,
            principal,
            "create",
            ("case", case.id),
            "Only a supervisor may set amount_vnd or extend the essential-needs cap.",
        )
    person_id = data.person_id or case.victim_person_id
    situation, role = await _situation(session, case, person_id)
    if situation is None:
        raise _unprocessable("person_id", no_support_reason(role))
    decision = entitlement(situation, SupportType(data.type))
    if not decision.allowed:
        raise _unprocessable("type", decision.reason or "not entitled")
    cap_extended = False
    if data.type in CAPPED_TYPES:
        used = await _days_used(session, case.id, person_id)
        asked = _CAP_DAYS.get(data.unit.value, 0) * data.quantity
        if used + asked > ESSENTIAL_NEEDS_MAX_DAYS:
            if not data.extension_reason:
                raise _unprocessable(
                    "quantity",
                    f"essential needs are capped at {ESSENTIAL_NEEDS_MAX_DAYS} days per "
                    f"person ({used} already counted); a supervisor may extend with "
                    "extension_reason",
                )
            cap_extended = True
    province = case.current_province_code or case.province_code
    if data.provider_agency_id:
        provider = await session.get(Agency, data.provider_agency_id)
        if provider is None:
            raise _unprocessable("provider_agency_id", "unknown agency")
        # The caller's own agency was checked above, as lead or as participant.
        unable = None
        if provider.id != principal.agency_id:
            functions = await agency_functions(session, provider.id)
            unable = service_function_refusal(data.type.value, functions)
        if unable is not None:
            raise _unprocessable(
                "provider_agency_id",
                f"must be an agency with the '{unable.function}' function",
            )
        province = provider.province_code or province
    rate = None
    if data.amount_vnd is not None:
        amount = data.amount_vnd
    else:
        rate = await rate_in_force(
            session, province, data.type.value, data.service_date, unit=data.unit.value
        )
        if rate is None:
            raise _unprocessable(
                "type",
                f"no rate for '{data.type.value}' per '{data.unit.value}' is in force on "
                f"{data.service_date.isoformat()} in province {province} or "
                "nationally; a supervisor may set amount_vnd with override_reason",
            )
        if rate.max_units is not None and data.quantity > rate.max_units:
            raise _unprocessable(
                "quantity", f"the rate in force allows at most {rate.max_units} units"
            )
        amount = rate.amount_vnd * data.quantity
    service = SupportService(
        id=service_id,
        case_id=case.id,
        person_id=person_id,
        type=data.type.value,
        unit=data.unit.value,
        quantity=data.quantity,
        service_date=data.service_date,
        provider_agency_id=data.provider_agency_id,
        referral_id=uuid.UUID(participation.referral_id) if participation else None,
        province_code=province,
        rate_id=rate.id if rate else None,
        amount_vnd=amount,
        amount_overridden=data.amount_vnd is not None,
        cap_extended=cap_extended,
        requested_by=principal.actor_id,
    )
    if participation is not None:
        # The referral naming this service is the lead's approval of it.
        service.status = SupportStatus.APPROVED.value
        service.decided_at = datetime.now(UTC)
    for column, text in (
        ("override_reason", data.override_reason if data.amount_vnd is not None else None),
        ("extension_reason", data.extension_reason if cap_extended else None),
    ):
        if text:
            setattr(
                service, column, await _seal(session, keys, principal, case, service, column, text)
            )
    session.add(service)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "support_requested" if participation is None else "support_approved",
        principal=principal,
        ref_type="support_service",
        ref_id=service.id,
        detail=service.type if participation is None else f"{service.type}:referral",
    )
    await audit.record(
        session,
        action="support_service.create",
        resource_type="support_service",
        resource_id=service.id,
        principal=principal,
        person_id=person_id,
        fields=tuple(sorted(data.model_fields_set)),
    )
    return service


async def _seal(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    service: SupportService,
    column: str,
    text: str,
) -> bytes:
    return await seal_text(
        session,
        keys,
        victim_person_id=case.victim_person_id,
        table="support_services",
        column=column,
        row_id=service.id,
        text=text,
        actor=principal,
    )


async def list_services(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, params: PageParams
) -> tuple[list[SupportService], str | None]:
    """The case's support services, newest first (a participant: those it provides)."""
    granted = await get_granted_case(session, principal, case_id, action="support_service.list")
    case = granted.case
    statement = select(SupportService).where(col(SupportService.case_id) == case.id)
    if not granted.grant.whole_case:
        statement = statement.where(col(SupportService.provider_agency_id) == principal.agency_id)
    rows = list(
        (
            await session.execute(
                paginate(statement, params, col(SupportService.created_at), col(SupportService.id))
            )
        ).scalars()
    )
    await audit.record(
        session,
        action="support_service.list",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
    )
    return page_of(rows, params, lambda s: (s.created_at, s.id))


async def act_on_service(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    service_id: uuid.UUID,
    action: str,
    *,
    reason: str | None = None,
) -> SupportService:
    """Move a support service one step (`MOVES`); the rules are in the module docstring."""
    sources, target = MOVES[action]
    granted = await get_granted_case(
        session, principal, case_id, action=f"support_service.{action}", for_update=True
    )
    case = granted.case
    statement = select(SupportService).where(
        col(SupportService.id) == service_id, col(SupportService.case_id) == case.id
    )
    if not granted.grant.lead:
        statement = statement.where(col(SupportService.provider_agency_id) == principal.agency_id)
    service = (await session.execute(statement.with_for_update())).scalar_one_or_none()
    if service is None:
        raise NotFound()
    if action in _DECISIONS and (
        not principal.can(Permission.CASES_APPROVE) or principal.agency_id != case.owner_agency_id
    ):
        raise await _deny(
            session,
            principal,
            action,
            ("support_service", service.id),
            "Only a supervisor of the agency owning the case may approve or reject support.",
        )
    if granted.grant.lead and action in _LEAD_DOES:
        why = service_function_refusal(service.type, granted.grant.functions)
        if why is not None:
            raise await refuse(session, principal, case.id, f"support_service.{action}", why)
    if action == "reject" and not reason:
        raise _unprocessable("reason", "a rejection needs a reason")
    if service.status not in sources:
        raise Conflict(
            f"A support service in status '{service.status}' cannot be moved to '{target.value}'.",
            extra={"allowed_from": sorted(sources)},
        )
    now = datetime.now(UTC)
    if action in _DECISIONS:
        service.decided_by, service.decided_at = principal.actor_id, now
    elif target is S.DELIVERED:
        service.delivered_at = now
    else:
        service.cancelled_at = now
    if reason:
        service.decision_reason = await _seal(
            session, keys, principal, case, service, "decision_reason", reason
        )
    previous = service.status
    service.status = target.value
    service.version += 1
    await session.flush()
    await timeline.append(
        session,
        case.id,
        f"support_{target.value}",
        principal=principal,
        ref_type="support_service",
        ref_id=service.id,
        detail=f"{service.type}:{previous}",
    )
    await audit.record(
        session,
        action=f"support_service.{action}",
        resource_type="support_service",
        resource_id=service.id,
        principal=principal,
        person_id=service.person_id,
        fields=("status", "decision_reason") if reason else ("status",),
    )
    return service
