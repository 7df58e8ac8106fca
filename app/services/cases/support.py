"""Support services of a case: requested, approved (or rejected), delivered, cancelled.

Rules (the money rules are data in `app.domain.support_money`, the checks in
`app.services.cases.support_checks`):
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
  the rule (`entitlements.SUPPORTED_ROLES`). The entitlement is checked again at
  approve and deliver: lost since the request (a `not_victim` decision, a closed
  case) it is 409 `support-not-due` naming the rule.
- One-off supports (initial allowance, health insurance) once per person: a second
  that is not rejected or cancelled is 409 `one-off-support-given` naming the first
  (`support_service_id`), under concurrency too (a partial unique index).
- Essential needs: given by the day, week or month only (else 422), at most 120 days
  per person per case counting the requested, approved and delivered rows in days (a
  week 7, a month 30). More needs `extension_reason` (encrypted, audited with the
  basis `cap_extension:lead` or `cap_extension:facility`) from a supervisor of the
  lead agency whose kind may extend (`extend_care`: social affairs) or of the facility
  providing them; without a reason 422, from anyone else 403.
- Amount: the rate in force on the service date (the province below, else national,
  same type and unit) times the quantity; a quantity above the rate's `max_units` is
  422. No rate: for an actual-cost type (medical, interpretation, legal support,
  travel) the amount is a receipt's {number, date, issuer, amount_vnd} (number and
  issuer encrypted; a receipt where a rate is in force is 422, the rate applies), and
  the service waits for a supervisor's approval even when a participant records it;
  otherwise 422, unless a supervisor of the lead sets `amount_vnd` with
  `override_reason` (from anyone else 403, a denied audit row).
- Four eyes: whoever requested a support (and so set its amount by rate, receipt or
  override, or extended its cap) may not approve, reject or deliver it: 403
  `four-eyes-required`, audited. Cancelling one's own request is allowed.
- A participating agency (an accepted `support` or `repatriation` referral, see
  `app.services.cases.access`) records the services its referral names and its agency
  kind may deliver (else 403 naming what is missing): it is their provider, the
  referral naming the service is the lead's approval (status `approved`, `referral_id`
  set) unless it is paid against a receipt, it cannot override amounts, and it sees,
  delivers and cancels only the services it provides (others are 404 to it).
- The lead requests, approves and delivers only the types its agency kind may
  deliver (`app.domain.participation.SERVICE_FUNCTIONS`: a loan needs `loans`, legal
  aid `legal_aid`, medical care `medical_support` or `support`, essential needs and
  travel `support` or `first_support`, the rest `support`), else 403
  `agency-function-required`; other types go to a provider by a referral. A provider
  the lead names must be able to deliver the type, else 422. Rejecting, cancelling and
  approving a participant's receipt need no function.
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

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.entitlements import CAPPED_TYPES, ESSENTIAL_NEEDS_MAX_DAYS
from app.domain.participation import service_function_refusal, service_refusal
from app.domain.support_money import CAP_DAYS_PER_UNIT
from app.errors import Conflict, DeniedForbidden, NotFound
from app.i18n import msg
from app.models import Case
from app.models.support import SupportService, SupportStatus
from app.schemas.support import (
    ReceiptPublic,
    SupportServiceCreate,
    SupportServicePublic,
)
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.cases import support_checks as checks
from app.services.cases import timeline
from app.services.cases.access import CaseGrant, get_granted_case, refuse
from app.services.cases.case_text import open_text, seal_text
from app.services.pagination import PageParams, page_of, paginate

_OPEN = (SupportStatus.REQUESTED.value, SupportStatus.APPROVED.value)

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
# The steps only someone other than the requester may take (four eyes).
_OTHER_EYES = frozenset({"approve", "reject", "deliver"})
# The steps at which the person must still be entitled to the support.
_RECHECKED = frozenset({"approve", "deliver"})
_unprocessable = checks.unprocessable


async def _deny(
    session: AsyncSession,
    principal: Principal,
    action: str,
    resource: tuple[str, uuid.UUID],
    why: str,
    reason: str = "missing_permission:cases:approve",
) -> DeniedForbidden:
    resource_type, resource_id = resource
    await audit.record(
        session,
        action=f"support_service.{action}",
        resource_type=resource_type,
        resource_id=resource_id,
        principal=principal,
        outcome="denied",
        reason=reason,
    )
    return DeniedForbidden(why)


async def _cap(
    session: AsyncSession,
    principal: Principal,
    case: Case,
    grant: CaseGrant,
    person_id: uuid.UUID,
    data: SupportServiceCreate,
) -> str | None:
    """The essential-needs cap (module rules): None within it, else the basis of the
    extension (`lead` or `facility`)."""
    if data.type not in CAPPED_TYPES:
        if data.extension_reason:
            raise _unprocessable("extension_reason", "extends the essential-needs cap only")
        return None
    if data.unit.value not in CAP_DAYS_PER_UNIT:
        raise _unprocessable(
            "unit",
            msg(
                "essential needs are given by the {units} (counted in days against the "
                "{days}-day cap)",
                units=", ".join(CAP_DAYS_PER_UNIT),
                days=ESSENTIAL_NEEDS_MAX_DAYS,
            ),
        )
    provider = data.provider_agency_id or (principal.agency_id if grant.lead else None)
    basis = checks.cap_extender(
        principal, lead=grant.lead, functions=grant.functions, provider_agency_id=provider
    )
    if data.extension_reason and basis is None:
        raise await _deny(
            session,
            principal,
            "create",
            ("case", case.id),
            "Only a supervisor of the lead social-affairs agency or of the facility "
            "providing the essential needs may extend the cap.",
            reason="cap_extension_not_allowed",
        )
    used = await checks.days_used(session, case.id, person_id)
    if used + CAP_DAYS_PER_UNIT[data.unit.value] * data.quantity <= ESSENTIAL_NEEDS_MAX_DAYS:
        return None
    if not data.extension_reason:
        raise _unprocessable("quantity", checks.cap_message(used))
    return basis


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
    if not supervisor and data.amount_vnd is not None:
        raise await _deny(
            session,
            principal,
            "create",
            ("case", case.id),
            "Only a supervisor of the lead agency may set amount_vnd.",
        )
    person_id = data.person_id or case.victim_person_id
    not_due = await checks.why_not_due(session, case, person_id, data.type.value)
    if not_due is not None:
        raise _unprocessable(*not_due)
    await checks.check_one_off(session, person_id, data.type.value)
    extended = await _cap(session, principal, case, grant, person_id, data)
    province = await checks.provider_province(
        session, principal, data, case.current_province_code or case.province_code
    )
    amount, rate = await checks.price(session, data, province)
    receipt = data.receipt if data.amount_vnd is None else None
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
        actual_cost=receipt is not None,
        receipt_date=receipt.date if receipt else None,
        cap_extended=extended is not None,
        requested_by=principal.actor_id,
    )
    # The referral naming this service is the lead's approval of it, but not of an
    # amount taken from a receipt: that waits for a supervisor of the lead.
    approved_by_referral = participation is not None and receipt is None
    if approved_by_referral:
        service.status = SupportStatus.APPROVED.value
        service.decided_at = datetime.now(UTC)
    for column, text in (
        ("override_reason", data.override_reason if data.amount_vnd is not None else None),
        ("extension_reason", data.extension_reason if extended else None),
        ("receipt_number", receipt.number if receipt else None),
        ("receipt_issuer", receipt.issuer if receipt else None),
    ):
        if text:
            setattr(
                service, column, await _seal(session, keys, principal, case, service, column, text)
            )
    await checks.insert_service(session, service)
    await timeline.append(
        session,
        case.id,
        "support_approved" if approved_by_referral else "support_requested",
        principal=principal,
        ref_type="support_service",
        ref_id=service.id,
        detail=f"{service.type}:referral" if approved_by_referral else service.type,
    )
    await audit.record(
        session,
        action="support_service.create",
        resource_type="support_service",
        resource_id=service.id,
        principal=principal,
        person_id=person_id,
        fields=tuple(sorted(data.model_fields_set)),
        reason=f"cap_extension:{extended}" if extended else None,
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


def public(
    row: SupportService, number: str | None = None, issuer: str | None = None
) -> SupportServicePublic:
    """The response for a service; the receipt's number and issuer when opened (lists)
    or just written (the answer to a create)."""
    receipt = None
    if row.actual_cost and row.receipt_date is not None:
        receipt = ReceiptPublic(
            number=number, date=row.receipt_date, issuer=issuer, amount_vnd=row.amount_vnd
        )
    fields = {
        name: getattr(row, name) for name in SupportServicePublic.model_fields if name != "receipt"
    }
    return SupportServicePublic.model_validate({**fields, "receipt": receipt})


async def _open(
    session: AsyncSession, keys: KeyProvider, principal: Principal, case: Case, row: SupportService
) -> SupportServicePublic:
    opened = [
        await open_text(
            session,
            keys,
            victim_person_id=case.victim_person_id,
            table="support_services",
            column=column,
            row_id=row.id,
            ciphertext=getattr(row, column),
            actor=principal,
        )
        for column in ("receipt_number", "receipt_issuer")
    ]
    return public(row, *opened)


async def list_services(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    params: PageParams,
) -> tuple[list[SupportServicePublic], str | None]:
    """The case's support services, newest first (a participant: those it provides),
    with their receipts opened."""
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
    items, cursor = page_of(rows, params, lambda s: (s.created_at, s.id))
    shown = [
        await _open(session, keys, principal, case, row) if row.actual_cost else public(row)
        for row in items
    ]
    await audit.record(
        session,
        action="support_service.list",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id if any(r.actual_cost for r in items) else None,
        fields=("receipt",) if any(r.actual_cost for r in items) else (),
    )
    return shown, cursor


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
    # A participant's receipt is approved by the lead without the function to give it:
    # the provider's function was checked when it recorded the service.
    providers_receipt = action == "approve" and service.referral_id is not None
    if granted.grant.lead and action in _LEAD_DOES and not providers_receipt:
        why = service_function_refusal(service.type, granted.grant.functions)
        if why is not None:
            raise await refuse(session, principal, case.id, f"support_service.{action}", why)
    if action in _OTHER_EYES:
        await checks.check_four_eyes(session, principal, service, action)
    if action == "reject" and not reason:
        raise _unprocessable("reason", "a rejection needs a reason")
    if service.status not in sources:
        raise Conflict(
            msg(
                "A support service in status '{status}' cannot be moved to '{target}'.",
                status=service.status,
                target=target.value,
            ),
            extra={"allowed_from": sorted(sources)},
        )
    if action in _RECHECKED:
        await checks.recheck_entitlement(session, case, service, action)
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
