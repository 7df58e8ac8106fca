"""Changing a case: its assignment and skeleton fields, its victim's identity, and its
status (through `transitions.apply_transition`, the only code that moves a status).

Rules:
- Every change names the version it was based on (If-Match): 428 without, 412 stale.
- A case is assigned only to an active user of the agency that owns it.
- Each change bumps the version, appends the timeline, and writes one audit event
  naming the fields changed (never their values).
- The age flags follow the victim's date of birth and age estimate
  (`app.domain.age`); only a supervisor (cases:approve) corrects what they rest on
  (`age`), with a reason, encrypted on the timeline. A case that becomes a minor's is
  notified to child protection then (`first_days`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.age import AgeBasis, assess
from app.domain.workflow import CaseStatus
from app.errors import DeniedForbidden, ValidationFailed
from app.etag import stale
from app.models import Case, User
from app.schemas.case import AgeCorrection, CaseUpdate, TransitionCreate
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import persons
from app.services.cases import case_text, first_days, stats, timeline, transitions
from app.services.cases.access import GrantedCase, get_granted_case
from app.services.cases.intake import VIETNAM
from app.services.person_fields import PersonFields

_UNCLEARABLE = ("sex", "nationality")


async def _locked_case(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, version: int, action: str
) -> GrantedCase:
    granted = await get_granted_case(session, principal, case_id, action=action, for_update=True)
    if granted.case.version != version:
        raise stale(granted.case.version)
    return granted


async def _check_assignee(session: AsyncSession, case: Case, user_id: uuid.UUID) -> None:
    found = (
        await session.execute(
            select(col(User.id)).where(
                col(User.id) == user_id,
                col(User.agency_id) == case.owner_agency_id,
                col(User.is_active).is_(True),
            )
        )
    ).first()
    if found is None:
        raise ValidationFailed(
            [{"field": "assigned_to", "message": "must be an active user of the owning agency"}]
        )


async def update_case(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    principal: Principal,
    case_id: uuid.UUID,
    data: CaseUpdate,
    *,
    version: int,
) -> Case:
    """Apply a PATCH to a readable case (module rules)."""
    case = (await _locked_case(session, principal, case_id, version, "case.update")).case
    changes = data.model_dump(exclude_unset=True)
    changed: list[str] = []
    if "assigned_to" in changes:
        if data.assigned_to is not None:
            await _check_assignee(session, case, data.assigned_to)
        case.assigned_to = data.assigned_to
        changed.append("assigned_to")
    if "exploitation_types" in changes:
        case.exploitation_types = sorted({t.value for t in data.exploitation_types or []})
        changed.append("exploitation_types")
    if "destination_country" in changes:
        case.destination_country = data.destination_country
        changed.append("destination_country")
    if "currently_abroad" in changes:
        if data.currently_abroad is None:
            raise ValidationFailed([{"field": "currently_abroad", "message": "must be a boolean"}])
        case.currently_abroad = data.currently_abroad
        changed.append("currently_abroad")
    if "first_needs" in changes:
        case.first_needs = sorted({n.value for n in data.first_needs or []})
        changed.append("first_needs")
    if "risk_level" in changes:
        case.risk_level = data.risk_level.value if data.risk_level else None
        changed.append("risk_level")
    if data.brought_to_commune is not None:
        errors = first_days.arrival_errors(
            principal, case.province_code, case.received_at, data.brought_to_commune
        )
        if errors:
            raise ValidationFailed(errors)
        await first_days.record_arrival(session, principal, case, data.brought_to_commune)
        changed.append("brought_to_commune")
    was_minor = case.is_minor
    victim_changes = changes.get("victim") or {}
    if victim_changes:
        cleared = [n for n in _UNCLEARABLE if n in victim_changes and victim_changes[n] is None]
        if cleared:
            raise ValidationFailed(
                [{"field": f"victim.{n}", "message": "cannot be cleared"} for n in cleared]
            )
        identity = {k: v for k, v in victim_changes.items() if k != "age_estimate"}
        if identity:
            values, clear = PersonFields.from_patch(identity)
            await persons.update_person(
                session, keys, indexer, case.victim_person_id, values, clear=clear, actor=principal
            )
        received_day = case.received_at.astimezone(VIETNAM).date()
        stats.apply_victim_stats(case, received_day, victim_changes)
        changed.extend(f"victim.{name}" for name in sorted(victim_changes))
    if data.age is not None:
        await _correct_age(session, keys, principal, case, data.age)
        changed.append("age_basis")
    if not changed:
        raise ValidationFailed([{"field": "body", "message": "names no field to change"}])
    case.version += 1
    case.updated_at = datetime.now(UTC)
    await session.flush()
    # The detail names the fields changed (program-written names, never values).
    await timeline.append(
        session, case.id, "case_updated", principal=principal, detail=",".join(changed)[:200]
    )
    await audit.record(
        session,
        action="case.update",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=changed,
    )
    if case.is_minor and not was_minor:
        await first_days.notify(session, keys, principal, case, first_days.CHILD_PROTECTION)
    return case


async def _correct_age(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    correction: AgeCorrection,
) -> None:
    """A supervisor's correction of the age basis (module rules), noted on the timeline."""
    if not principal.can(Permission.CASES_APPROVE):
        raise DeniedForbidden("Only a supervisor may correct the age basis of a case.")
    estimate = correction.age_estimate
    if estimate is None:
        estimate = case.age_estimate
    if correction.basis is AgeBasis.ESTIMATE and estimate is None:
        raise ValidationFailed(
            [{"field": "age.age_estimate", "message": "is required to rest the age on an estimate"}]
        )
    case.age_estimate = estimate
    keep = correction.basis is AgeBasis.PRESUMED_MINOR
    stats.set_age(
        case, assess(stats.recorded_age_from_birth(case), estimate, keep_presumption=keep)
    )
    entry_id = uuid.uuid4()
    note = await case_text.seal_text(
        session,
        keys,
        victim_person_id=case.victim_person_id,
        table="case_timeline",
        column="note",
        row_id=entry_id,
        text=correction.reason.strip(),
        actor=principal,
    )
    await timeline.append(
        session,
        case.id,
        "age_basis_corrected",
        principal=principal,
        detail=case.age_basis,
        note=note,
        entry_id=entry_id,
    )


async def transition_case(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    data: TransitionCreate,
    *,
    version: int,
) -> Case:
    """Move a readable case to `data.to`. Identification outcomes (identified,
    not_identified) come only from an identification decision, so they are refused
    here with 409 like any other illegal move."""
    granted = await _locked_case(session, principal, case_id, version, "case.transition")
    return await transitions.apply_transition(
        session,
        keys,
        principal,
        granted.case,
        CaseStatus(data.to),
        reason=data.reason,
        functions=granted.grant.functions,
        closure=data.closure_code,
    )
