"""The criminal proceedings a victim's case belongs to (`app.domain.criminal` holds the
stages and outcomes).

Rules:
- Recorded and changed by an investigating body: the lead, or a participant in an
  identification or investigation role, whose agency kind has the `investigate`
  function (police) or `investigate_border` (border guard and coast guard); others
  who reach the case get 403 naming the functions, audited. Every agency reaching
  the case whole (lead, former lead) reads them; a participant in those roles reads
  and changes only the proceedings its agency recorded or investigates (the others
  are 404 to it).
- The investigating agency (by default the recording one) is an active agency whose
  kind has one of those functions (422).
- The criminal case's reference is sealed under the victim's data key; the answer to
  a create shows it as written, reads and PATCH answers return it, as for the case's
  other free text. The timeline entry says the stage and outcome only.
- A case may belong to several proceedings (one per criminal case or report).
- Changes name the version they were based on (If-Match: 428 without, 412 stale). The
  stage moves forward only and `closed` is final (409); an outcome that the stage
  does not take is 422.
- Every creation and change appends a timeline entry and an audit event.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, any_, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.criminal import (
    INVESTIGATING_FUNCTIONS,
    ProceedingOutcome,
    ProceedingStage,
    Stamps,
    check_move,
    check_outcome,
    stamps,
)
from app.errors import Conflict, NotFound, ValidationFailed
from app.etag import required_version, stale
from app.models import Agency, AgencyKind, Case, CriminalProceeding
from app.schemas.criminal import (
    CriminalProceedingCreate,
    CriminalProceedingPublic,
    CriminalProceedingUpdate,
)
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import case_text, timeline
from app.services.cases.access import GrantedCase, get_granted_case
from app.services.pagination import PageParams, page_of, paginate

TABLE = "criminal_proceedings"
RESOURCE = "criminal_proceeding"


class ProceedingStageConflict(Conflict):
    slug = "proceeding-stage"
    title_en, title_vi = (
        "The proceedings cannot move to that stage",
        "Không thể chuyển tố tụng sang giai đoạn này",
    )


async def _public(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    row: CriminalProceeding,
    *,
    written: dict[str, str | None] | None = None,
) -> CriminalProceedingPublic:
    """The proceedings, the reference opened (or, answering the create, as `written`)."""
    reference = (
        written["reference"]
        if written is not None
        else await case_text.open_text(
            session,
            keys,
            victim_person_id=case.victim_person_id,
            table=TABLE,
            column="reference",
            row_id=row.id,
            ciphertext=row.reference,
            actor=principal,
        )
    )
    return CriminalProceedingPublic(
        id=row.id,
        case_id=row.case_id,
        investigating_agency_id=row.investigating_agency_id,
        reference=reference,
        stage=ProceedingStage(row.stage),
        outcome=ProceedingOutcome(row.outcome) if row.outcome else None,
        opened_at=row.opened_at,
        stage_changed_at=row.stage_changed_at,
        resolved_at=row.resolved_at,
        tried_at=row.tried_at,
        agency_id=row.agency_id,
        recorded_by=row.recorded_by,
        version=row.version,
        updated_at=row.updated_at,
    )


async def _check_investigating(session: AsyncSession, agency_id: uuid.UUID) -> None:
    found = await session.execute(
        select(col(Agency.id))
        .join(AgencyKind, col(AgencyKind.code) == col(Agency.kind))
        .where(
            col(Agency.id) == agency_id,
            col(Agency.is_active).is_(True),
            or_(*(literal(f) == any_(col(AgencyKind.functions)) for f in INVESTIGATING_FUNCTIONS)),
        )
    )
    if found.first() is None:
        raise ValidationFailed(
            [
                {
                    "field": "investigating_agency_id",
                    "message": "must be an active police, border guard or coast guard agency",
                }
            ]
        )


def _check_outcome(stage: ProceedingStage, outcome: ProceedingOutcome | None) -> None:
    why = check_outcome(stage, outcome)
    if why is not None:
        raise ValidationFailed([{"field": "outcome", "message": why.message}])


async def _seal(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    row_id: uuid.UUID,
    reference: str,
) -> bytes:
    return await case_text.seal_text(
        session,
        keys,
        victim_person_id=case.victim_person_id,
        table=TABLE,
        column="reference",
        row_id=row_id,
        text=reference,
        actor=principal,
    )


def _detail(row: CriminalProceeding) -> str:
    """The timeline's code: stage and outcome, never the reference."""
    return f"{row.stage}:{row.outcome}" if row.outcome else row.stage


async def create_proceeding(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    body: CriminalProceedingCreate,
) -> CriminalProceedingPublic:
    """Record the criminal proceedings a case belongs to (see the module rules)."""
    action = "criminal_proceeding.create"
    granted = await get_granted_case(session, principal, case_id, action=action)
    case = granted.case
    investigating = body.investigating_agency_id or principal.agency_id
    await _check_investigating(session, investigating)
    _check_outcome(body.stage, body.outcome)
    now = datetime.now(UTC)
    reached = stamps(body.stage, body.outcome, Stamps(None, None), now)
    row_id = uuid.uuid4()
    row = CriminalProceeding(
        id=row_id,
        case_id=case.id,
        investigating_agency_id=investigating,
        reference=await _seal(session, keys, principal, case, row_id, body.reference),
        stage=body.stage.value,
        outcome=body.outcome.value if body.outcome else None,
        opened_at=now,
        stage_changed_at=now,
        resolved_at=reached.resolved_at,
        tried_at=reached.tried_at,
        agency_id=principal.agency_id,
        recorded_by=principal.actor_id,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "criminal_proceeding_recorded",
        principal=principal,
        ref_type=RESOURCE,
        ref_id=row.id,
        detail=_detail(row),
    )
    await audit.record(
        session,
        action=action,
        resource_type=RESOURCE,
        resource_id=row.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("reference",),
        reason=f"stage:{row.stage}",
    )
    written: dict[str, str | None] = {"reference": body.reference}
    return await _public(session, keys, principal, case, row, written=written)


async def update_proceeding(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    proceeding_id: uuid.UUID,
    body: CriminalProceedingUpdate,
    *,
    if_match: str | None,
) -> CriminalProceedingPublic:
    """Move the stage forward, give the outcome, correct the reference or the
    investigating agency, of the version named by If-Match (module rules)."""
    action = "criminal_proceeding.update"
    granted = await get_granted_case(session, principal, case_id, action=action)
    case = granted.case
    version = required_version(if_match)
    statement = _of_case(case.id, granted, principal).where(
        col(CriminalProceeding.id) == proceeding_id
    )
    row = (await session.execute(statement.with_for_update())).scalar_one_or_none()
    if row is None:
        raise NotFound()
    if row.version != version:
        raise stale(row.version)
    given = body.model_fields_set
    for field in ("stage", "reference", "investigating_agency_id"):
        if field in given and getattr(body, field) is None:
            raise ValidationFailed([{"field": field, "message": "must not be null"}])
    current = ProceedingStage(row.stage)
    stage = body.stage or current
    why = check_move(current, stage)
    if why is not None:
        raise ProceedingStageConflict(why.message, extra={"stage": current.value})
    outcome = (
        body.outcome
        if "outcome" in given
        else (ProceedingOutcome(row.outcome) if row.outcome else None)
    )
    _check_outcome(stage, outcome)
    if body.investigating_agency_id is not None:
        await _check_investigating(session, body.investigating_agency_id)
        row.investigating_agency_id = body.investigating_agency_id
    if body.reference is not None:
        row.reference = await _seal(session, keys, principal, case, row.id, body.reference)
    now = datetime.now(UTC)
    if stage is not current:
        row.stage_changed_at = now
    reached = stamps(stage, outcome, Stamps(row.resolved_at, row.tried_at), now)
    row.stage = stage.value
    row.outcome = outcome.value if outcome else None
    row.resolved_at, row.tried_at = reached.resolved_at, reached.tried_at
    row.version += 1
    row.updated_at = now
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "criminal_proceeding_changed",
        principal=principal,
        ref_type=RESOURCE,
        ref_id=row.id,
        detail=_detail(row),
    )
    await audit.record(
        session,
        action=action,
        resource_type=RESOURCE,
        resource_id=row.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=tuple(sorted(given)),
        reason=f"stage:{row.stage}",
    )
    return await _public(session, keys, principal, case, row)


async def list_proceedings(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    params: PageParams,
) -> tuple[list[CriminalProceedingPublic], str | None]:
    """The case's criminal proceedings this reader sees, newest first; audited as one
    read of their references."""
    action = "criminal_proceeding.list"
    granted = await get_granted_case(session, principal, case_id, action=action)
    case = granted.case
    statement = paginate(
        _of_case(case.id, granted, principal),
        params,
        col(CriminalProceeding.opened_at),
        col(CriminalProceeding.id),
    )
    rows = list((await session.execute(statement)).scalars())
    kept, cursor = page_of(rows, params, lambda r: (r.opened_at, r.id))
    await audit.record(
        session,
        action=action,
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("reference",),
    )
    return [await _public(session, keys, principal, case, r) for r in kept], cursor


def _of_case(case_id: uuid.UUID, granted: GrantedCase, principal: Principal) -> Select[Any]:
    """The case's proceedings this reader sees: all, or a participant's own (recorded
    or investigated by its agency)."""
    statement = select(CriminalProceeding).where(col(CriminalProceeding.case_id) == case_id)
    if not granted.grant.whole_case:
        statement = statement.where(
            or_(
                col(CriminalProceeding.agency_id) == principal.agency_id,
                col(CriminalProceeding.investigating_agency_id) == principal.agency_id,
            )
        )
    return statement
