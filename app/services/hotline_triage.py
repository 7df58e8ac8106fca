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
- Opening cases needs an agency that receives cases (`receive`: not the hotline
  centre itself), else 403 `agency-function-required`; a forward target must receive
  reports (`receive`: police, border guard, coast guard, the commune, ...), else 422.
- Opening cases goes through the cases intake (`intake_case`), one case for each
  suspected victim named in `victim_indexes` (positions in the report; the first one
  when unset). Each chosen suspected victim becomes that case's victim (a new
  `victim` person: name, sex, nationality, which defaults to VN for a report to the
  national line), intake source `hotline`, received where and when the report was,
  linked to the report (`cases.hotline_report_id`). The positions must exist, be
  distinct and name someone with a name (422 naming each bad one). All the cases
  open in the request's transaction, so if one fails none is opened. The report keeps
  the first case's id as `case_id`; the answer lists them all.
- Any first triage is the report's answer (`responded_at`, see `hotline_queue`).
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
from app.errors import Conflict, DeniedForbidden, ValidationFailed
from app.etag import stale
from app.i18n import msg
from app.models import Agency, HotlineReport, HotlineSuspectedVictim
from app.models.hotline import HotlineStatus
from app.models.person import Sex
from app.schemas.case import CaseCreate, IntakeSource
from app.schemas.hotline import HotlineTriageCreate, HotlineTriagePublic, TriageAction
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import hotline_queue, persons, vault
from app.services.agency_functions import require_named, require_own
from app.services.cases.intake import intake_case
from app.services.hotline import (
    REPORTS,
    get_readable_report,
    suspected_victims,
    text_context,
)
from app.services.persons import PersonView

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
    indexes = data.victim_indexes
    if indexes is not None and data.action != TriageAction.OPEN_CASE:
        errors.append({"field": "victim_indexes", "message": "is only for open_case"})
    elif indexes is not None and not indexes:
        errors.append({"field": "victim_indexes", "message": "must name at least one victim"})
    elif indexes is not None:
        errors += [
            {"field": f"victim_indexes[{n}]", "message": "is repeated"}
            for n, index in enumerate(indexes)
            if index in indexes[:n]
        ]
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
        raise stale(report.version)
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
        raise DeniedForbidden(
            msg("This action needs the '{permission}' permission.", permission=needed.value)
        )
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
    case_ids: list[uuid.UUID] = []
    if data.action == TriageAction.FORWARD:
        assert data.to_agency_id is not None
        await _check_target(session, report, data.to_agency_id)
        report.forwarded_to_agency_id = data.to_agency_id
        report.status = HotlineStatus.FORWARDED.value
        await hotline_queue.announce_forwarded(session, report)
    elif data.action == TriageAction.CLOSE:
        assert data.reason is not None
        ctx = text_context(REPORTS, "close_reason", report.id, report.caller_person_id)
        report.close_reason = await vault.seal_text(
            session, keys, ctx, data.reason, actor=principal
        )
        report.status = HotlineStatus.CLOSED.value
        fields = ("close_reason",)
    else:
        case_ids = await _open_cases(session, keys, indexer, principal, report, data.victim_indexes)
        report.case_id = case_ids[0]
        report.status = HotlineStatus.CASE_OPENED.value
        fields = ("suspected_victims.name",)
    now = datetime.now(UTC)
    hotline_queue.mark_responded(report, now)
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
        case_ids=case_ids,
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


async def _chosen(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    report: HotlineReport,
    indexes: list[int] | None,
) -> list[tuple[HotlineSuspectedVictim, PersonView]]:
    """The suspected victims `indexes` names (the first one if None), each with its
    person revealed; 422 naming every bad position (a 409 if none was named and the
    report has no named first victim, as before positions could be named)."""
    victims = await suspected_victims(session, report.id)
    chosen = [0] if indexes is None else indexes
    errors = [
        {"field": f"victim_indexes[{n}]", "message": msg("must be below {n}", n=len(victims))}
        for n, index in enumerate(chosen)
        if index >= len(victims)
    ]
    rows = [victims[i] for i in chosen if i < len(victims)]
    views = await persons.read_persons(
        session, keys, [row.person_id for row in rows], reveal=True, actor=principal
    )
    picked = []
    for n, index in enumerate(chosen):
        if index >= len(victims):
            continue
        view = views.get(victims[index].person_id)
        if view is None or view.erased or not view.full_name:
            errors.append(
                {"field": f"victim_indexes[{n}]", "message": "has no name to open a case"}
            )
        else:
            picked.append((victims[index], view))
    if errors and indexes is None:
        raise Conflict("A case needs a named suspected victim; record the intake directly.")
    if errors:
        raise ValidationFailed(errors)
    return picked


def _intake_data(
    report: HotlineReport, victim: HotlineSuspectedVictim, person: PersonView
) -> CaseCreate:
    """The intake of the case of one suspected victim (`victim`, its row in the report,
    which also holds the report's approximate age for this person; `person`, its
    identity revealed)."""
    try:
        return CaseCreate.model_validate(
            {
                "intake_source": IntakeSource.HOTLINE,
                "received_at": report.received_at,
                "received_location": {"province_code": report.province_code},
                "victim": {
                    "full_name": str(person.full_name),
                    "sex": person.sex or Sex.UNKNOWN.value,
                    "nationality": person.nationality or DEFAULT_NATIONALITY,
                    # The caller's approximate age of this person carries over as the
                    # estimate.
                    "age_estimate": victim.approximate_age,
                },
                "hotline_report_id": report.id,
            }
        )
    except ValidationError:
        # Values were validated when the report was recorded; name the field only.
        raise ValidationFailed(
            [
                {
                    "field": f"suspected_victims[{victim.position}]",
                    "message": "cannot become a case victim",
                }
            ]
        ) from None


async def _open_cases(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    principal: Principal,
    report: HotlineReport,
    indexes: list[int] | None,
) -> list[uuid.UUID]:
    """One case per chosen suspected victim (module rules); every intake is built and
    checked before the first case is written."""
    picked = await _chosen(session, keys, principal, report, indexes)
    intakes = [_intake_data(report, victim, view) for victim, view in picked]
    opened = []
    for data in intakes:
        opened.append((await intake_case(session, keys, indexer, principal, data)).case.id)
    return opened
