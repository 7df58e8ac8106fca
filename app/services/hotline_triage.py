"""Triage of a hotline 111 report: open a case, forward it, or close it with a reason.

Rules:
- The hotline centre that owns an `open` report may forward it (to another active
  agency) or close it (`hotline_reports:write`), or open a case from it
  (`cases:write`).
- The agency a report was forwarded to may then open a case from it or close it
  (`cases:write`): forwarding hands the decision over, and the centre's operators do
  not hold `cases:write`, so this is how most hotline cases begin.
- Any other state, or a report already triaged by this side, answers 409 with the
  actions still `allowed`. A triage is final; it is not undone.
- Opening a case needs an agency that receives cases (`receive`: not the hotline
  centre itself), else 403 `agency-function-required`; a forward target must receive
  reports (`receive`: police, border guard, coast guard, the commune, ...), else 422.
- Opening a case goes through the cases intake (`intake_case`): the first suspected
  victim becomes the case's victim (a new `victim` person: name, sex, nationality,
  which defaults to VN for a report to the national line), intake source `hotline`,
  received where and when the report was. The report keeps the new case's id.
- A closing reason is sealed under the caller's key, like the rest of the account.
- Each triage is audited as `hotline_report.triage` with the action as the reason
  code and field names only; a missing permission is recorded and answered 403.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.domain.agency_functions import FORWARD_TARGET, OPEN_CASE
from app.errors import Conflict, DeniedForbidden, PreconditionFailed, ValidationFailed
from app.models import Agency, HotlineReport
from app.models.hotline import HotlineStatus
from app.models.person import Sex
from app.schemas.case import CaseCreate, IntakeSource
from app.schemas.hotline import HotlineTriageCreate, HotlineTriagePublic, TriageAction
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import persons, vault
from app.services.agency_functions import require_named, require_own
from app.services.cases.intake import intake_case
from app.services.hotline import (
    REPORTS,
    get_readable_report,
    suspected_victims,
    text_context,
)

DEFAULT_NATIONALITY = "VN"


def allowed_actions(report: HotlineReport, principal: Principal) -> list[TriageAction]:
    """What this principal's agency may still do with the report, by its state."""
    if report.status == HotlineStatus.OPEN and report.owner_agency_id == principal.agency_id:
        return [TriageAction.OPEN_CASE, TriageAction.FORWARD, TriageAction.CLOSE]
    if (
        report.status == HotlineStatus.FORWARDED
        and report.forwarded_to_agency_id == principal.agency_id
    ):
        return [TriageAction.OPEN_CASE, TriageAction.CLOSE]
    return []


def required_permission(report: HotlineReport, action: TriageAction) -> Permission:
    """The permission an allowed action needs: a forwarded report is triaged by the
    target's case staff, an open one by the centre's operators (a case by case staff)."""
    if action == TriageAction.OPEN_CASE or report.status == HotlineStatus.FORWARDED:
        return Permission.CASES_WRITE
    return Permission.HOTLINE_REPORTS_WRITE


def _check_body(data: HotlineTriageCreate) -> None:
    errors = []
    if data.action == TriageAction.FORWARD and data.to_agency_id is None:
        errors.append({"field": "to_agency_id", "message": "is required to forward"})
    if data.action != TriageAction.FORWARD and data.to_agency_id is not None:
        errors.append({"field": "to_agency_id", "message": "is only for forward"})
    if data.action == TriageAction.CLOSE and not data.reason:
        errors.append({"field": "reason", "message": "is required to close"})
    if errors:
        raise ValidationFailed(errors)


async def triage_report(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    principal: Principal,
    report_id: uuid.UUID,
    data: HotlineTriageCreate,
    *,
    expected_version: int,
) -> HotlineTriagePublic:
    """Apply one triage action (module rules). A report already triaged answers 409
    before a stale `expected_version` answers 412: the state is what the caller needs
    to learn. Flushes; the request commits."""
    _check_body(data)
    action_code = "hotline_report.triage"
    report = await get_readable_report(
        session, principal, report_id, action=action_code, for_update=True
    )
    allowed = allowed_actions(report, principal)
    if data.action not in allowed:
        raise Conflict(
            "The report cannot be triaged this way in its current state.",
            extra={"allowed": [a.value for a in allowed]},
        )
    if report.version != expected_version:
        raise PreconditionFailed()
    needed = required_permission(report, data.action)
    if not principal.can(needed):
        await audit.record(
            session,
            action=action_code,
            resource_type="hotline_report",
            resource_id=report.id,
            principal=principal,
            outcome="denied",
            reason=f"missing_permission:{needed.value}",
        )
        raise DeniedForbidden(f"This action needs the '{needed.value}' permission.")
    if data.action == TriageAction.OPEN_CASE:
        await require_own(
            session,
            principal,
            OPEN_CASE,
            action=action_code,
            resource_type="hotline_report",
            resource_id=report.id,
        )
    fields: tuple[str, ...] = ()
    if data.action == TriageAction.FORWARD:
        assert data.to_agency_id is not None
        await _check_target(session, report, data.to_agency_id)
        report.forwarded_to_agency_id = data.to_agency_id
        report.status = HotlineStatus.FORWARDED.value
    elif data.action == TriageAction.CLOSE:
        assert data.reason is not None
        ctx = text_context(REPORTS, "close_reason", report.id, report.caller_person_id)
        report.close_reason = await vault.seal_text(
            session, keys, ctx, data.reason, actor=principal
        )
        report.status = HotlineStatus.CLOSED.value
        fields = ("close_reason",)
    else:
        report.case_id = await _open_case(session, keys, indexer, principal, report)
        report.status = HotlineStatus.CASE_OPENED.value
        fields = ("suspected_victims.name",)
    now = datetime.now(UTC)
    report.triaged_at = now
    report.triaged_by = principal.actor_id
    report.updated_at = now
    report.version += 1
    await session.flush()
    await audit.record(
        session,
        action=action_code,
        resource_type="hotline_report",
        resource_id=report.id,
        principal=principal,
        person_id=report.caller_person_id,
        fields=fields,
        reason=data.action.value,
    )
    return HotlineTriagePublic(
        id=report.id,
        status=HotlineStatus(report.status),
        forwarded_to_agency_id=report.forwarded_to_agency_id,
        case_id=report.case_id,
        triaged_at=now,
        version=report.version,
    )


async def _check_target(session: AsyncSession, report: HotlineReport, agency_id: uuid.UUID) -> None:
    agency = await session.get(Agency, agency_id)
    if agency is None or not agency.is_active:
        raise ValidationFailed([{"field": "to_agency_id", "message": "no such active agency"}])
    if agency.id == report.owner_agency_id:
        raise ValidationFailed(
            [{"field": "to_agency_id", "message": "must be another agency than the owner"}]
        )
    await require_named(session, agency_id, FORWARD_TARGET, field="to_agency_id")


async def _open_case(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    principal: Principal,
    report: HotlineReport,
) -> uuid.UUID:
    victims = await suspected_victims(session, report.id)
    first = None
    if victims:
        first = await persons.read_person(
            session, keys, victims[0].person_id, reveal=True, actor=principal
        )
    if first is None or first.erased or not first.full_name:
        raise Conflict("A case needs a named suspected victim; record the intake directly.")
    try:
        data = CaseCreate.model_validate(
            {
                "intake_source": IntakeSource.HOTLINE,
                "received_at": report.received_at,
                "received_location": {"province_code": report.province_code},
                "victim": {
                    "full_name": str(first.full_name),
                    "sex": first.sex or Sex.UNKNOWN.value,
                    "nationality": first.nationality or DEFAULT_NATIONALITY,
                },
                "hotline_report_id": report.id,
            }
        )
    except ValidationError:
        # Values were validated when the report was recorded; name the field only.
        raise ValidationFailed(
            [{"field": "suspected_victims.0", "message": "cannot become a case victim"}]
        ) from None
    opened = await intake_case(session, keys, indexer, principal, data)
    return opened.case.id
