"""The initial verification (xác minh ban đầu) of a case: recorded when it is done.

Rules:
- Moving a case to `verifying` says verification has started; only this record says
  it is done. It alone meets the initial-verification deadline (3 days from intake,
  `app.domain.workflow.DeadlinePolicy`): until a case has it, a case `received` or
  `verifying` keeps that deadline as its `next_due_at`, so it is listed by
  `GET /cases?overdue=true` once the deadline has passed. Recording it sets
  `cases.verified_at` and moves `next_due_at` to the next step's deadline, if the
  policy sets one. The periodic return counts these records as "verified".
- The status stays the workflow: the record does not move the case, and a case
  moves on (identification decision included) without it. The verification step
  ends with the identification decision; a decided case without a record is not
  overdue for it, but is not counted as verified either.
- One record per case (the initial verification is one event): a second is 409
  `verification-recorded`, naming the record. A closed case takes none (409).
- Who: the lead, or a participant in the `verification` role, in either case of an
  agency whose kind has the function `verify` (`app.domain.participation`); others
  who reach the case get 403, audited. A participant's record lands on the lead's
  case, marked with its agency.
- `completed_at` is not in the future (5 minutes of clock skew aside) nor before the
  case was received; `agency_ids` are active agencies whose kind may verify
  (`verify`, or `verify_identity` for a mission abroad); 422 otherwise.
- The note is free text and may name people: it is sealed under the case victim's
  data key (`case_text`), context case_verifications/note/<record id>. The answer to
  the create shows the note as written; reads return it, to the lead and former
  leads, and to a participant for the note its own agency wrote.
- Audited as `verification.create` and `verification.list`; the record is on the
  timeline (`verification_recorded`, detail the outcome).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.workflow import CaseStatus
from app.errors import Conflict, ValidationFailed
from app.models import Agency, AgencyKind, Case, CaseVerification
from app.models.verification import VerificationOutcome
from app.schemas.verification import VerificationCreate, VerificationPublic
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import case_text, timeline
from app.services.cases.access import get_granted_case
from app.services.cases.deadlines import deadline_policy

TABLE = "case_verifications"
CREATE, LIST = "verification.create", "verification.list"
_CLOCK_SKEW = timedelta(minutes=5)
# The functions of an agency kind that may take part in a verification.
VERIFYING_FUNCTIONS = frozenset({"verify", "verify_identity"})


class VerificationRecorded(Conflict):
    """409: the case already has its initial verification record."""

    slug = "verification-recorded"
    title_en, title_vi = (
        "The case's verification is already recorded",
        "Kết quả xác minh của vụ việc đã được ghi nhận",
    )


def _shape(row: CaseVerification, note: str | None) -> VerificationPublic:
    return VerificationPublic(
        id=row.id,
        case_id=row.case_id,
        outcome=VerificationOutcome(row.outcome),
        completed_at=row.completed_at,
        agency_ids=list(row.agency_ids),
        note=note,
        recorded_by=row.recorded_by,
        agency_id=row.agency_id,
        created_at=row.created_at,
    )


async def _check_agencies(session: AsyncSession, agency_ids: list[uuid.UUID]) -> None:
    rows = await session.execute(
        select(col(Agency.id), col(AgencyKind.functions))
        .join(AgencyKind, col(AgencyKind.code) == col(Agency.kind))
        .where(col(Agency.id).in_(agency_ids), col(Agency.is_active))
    )
    able = {
        agency_id for agency_id, functions in rows.all() if VERIFYING_FUNCTIONS & set(functions)
    }
    if set(agency_ids) - able:
        raise ValidationFailed(
            [
                {
                    "field": "agency_ids",
                    "message": "every id must be an active agency whose kind may verify",
                }
            ]
        )


def _check_dates(case: Case, completed_at: datetime) -> None:
    if completed_at > datetime.now(UTC) + _CLOCK_SKEW:
        raise ValidationFailed([{"field": "completed_at", "message": "must not be in the future"}])
    if completed_at < case.received_at:
        raise ValidationFailed(
            [{"field": "completed_at", "message": "must not be before the case was received"}]
        )


async def record_verification(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    body: VerificationCreate,
) -> VerificationPublic:
    """Record the case's initial verification (see the module rules)."""
    granted = await get_granted_case(session, principal, case_id, action=CREATE, for_update=True)
    case = granted.case
    if case.status == CaseStatus.CLOSED.value:
        raise Conflict("A closed case takes no verification record.")
    existing = (
        await session.execute(
            select(col(CaseVerification.id)).where(col(CaseVerification.case_id) == case.id)
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise VerificationRecorded(
            "The initial verification of this case is already recorded.",
            extra={"verification_id": str(existing)},
        )
    _check_dates(case, body.completed_at)
    agency_ids = list(dict.fromkeys(body.agency_ids))
    await _check_agencies(session, agency_ids)
    record_id = uuid.uuid4()
    note = None
    if body.note:
        note = await case_text.seal_text(
            session,
            keys,
            victim_person_id=case.victim_person_id,
            table=TABLE,
            column="note",
            row_id=record_id,
            text=body.note,
            actor=principal,
        )
    row = CaseVerification(
        id=record_id,
        case_id=case.id,
        outcome=body.outcome.value,
        completed_at=body.completed_at,
        agency_ids=agency_ids,
        note=note,
        recorded_by=principal.actor_id,
        agency_id=principal.agency_id,
    )
    session.add(row)
    case.verified_at = body.completed_at
    case.next_due_at = deadline_policy().due_for(
        CaseStatus(case.status), case.received_at, verified=True
    )
    case.version += 1
    case.updated_at = datetime.now(UTC)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "verification_recorded",
        principal=principal,
        ref_type="verification",
        ref_id=row.id,
        detail=row.outcome,
    )
    await audit.record(
        session,
        action=CREATE,
        resource_type="verification",
        resource_id=row.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("note",) if note is not None else (),
        reason=row.outcome,
    )
    return _shape(row, body.note or None)


async def list_verifications(
    session: AsyncSession, keys: KeyProvider, principal: Principal, case_id: uuid.UUID
) -> list[VerificationPublic]:
    """The case's verification record as a list (empty until recorded, then one);
    audited as one read."""
    granted = await get_granted_case(session, principal, case_id, action=LIST)
    case = granted.case
    rows = list(
        (
            await session.execute(
                select(CaseVerification).where(col(CaseVerification.case_id) == case.id)
            )
        ).scalars()
    )
    shown: list[VerificationPublic] = []
    opened = False
    for row in rows:
        note = None
        if row.note is not None and (
            granted.grant.whole_case or row.agency_id == principal.agency_id
        ):
            note = await case_text.open_text(
                session,
                keys,
                victim_person_id=case.victim_person_id,
                table=TABLE,
                column="note",
                row_id=row.id,
                ciphertext=row.note,
                actor=principal,
            )
            opened = True
        shown.append(_shape(row, note))
    await audit.record(
        session,
        action=LIST,
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("note",) if opened else (),
    )
    return shown
