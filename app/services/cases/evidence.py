"""Evidence (chứng cứ) gathered to verify and identify a victim.

Rules:
- Only an agency whose kind has the function `verify` records evidence: the lead, or
  a participant in a verification, identification or investigation role
  (`app.services.cases.access`); a case worker of another kind who reaches the case
  gets 403 (the case is visible to them, the function is not theirs), audited. A
  participant's evidence lands on the lead's case, marked with its agency.
- The description is free text and may name people: it is sealed under the case
  victim's data key (`case_text`), context case_evidence/description/<evidence id>.
- Readers of the case read its evidence, decrypted; a participant reads the evidence
  its own agency recorded. Each list is audited.
- A closed case takes no new evidence.
- The answer to a create shows the description as written; reads return it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.workflow import CaseStatus
from app.errors import Conflict
from app.models import Case, CaseEvidence
from app.models.case_records import EvidenceSource
from app.schemas.case_records import EvidenceCreate, EvidencePublic
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import case_text, timeline
from app.services.cases.access import get_granted_case, get_readable_case
from app.services.pagination import PageParams, page_of, paginate

TABLE = "case_evidence"


async def _public(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    row: CaseEvidence,
) -> EvidencePublic:
    description = await case_text.open_text(
        session,
        keys,
        victim_person_id=case.victim_person_id,
        table=TABLE,
        column="description",
        row_id=row.id,
        ciphertext=row.description,
        actor=principal,
    )
    return _shape(row, description or "")


def _shape(row: CaseEvidence, description: str | None) -> EvidencePublic:
    return EvidencePublic(
        id=row.id,
        case_id=row.case_id,
        source=EvidenceSource(row.source),
        description=description,
        obtained_at=row.obtained_at,
        document_ref=row.document_ref,
        recorded_by=row.recorded_by,
        agency_id=row.agency_id,
        created_at=row.created_at,
    )


async def create_evidence(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    body: EvidenceCreate,
) -> EvidencePublic:
    """Record one piece of evidence on a readable, open case (agency function `verify`)."""
    case = await get_readable_case(session, principal, case_id, action="evidence.create")
    if case.status == CaseStatus.CLOSED.value:
        raise Conflict("A closed case takes no new evidence.")
    evidence_id = uuid.uuid4()
    row = CaseEvidence(
        id=evidence_id,
        case_id=case.id,
        source=body.source.value,
        description=await case_text.seal_text(
            session,
            keys,
            victim_person_id=case.victim_person_id,
            table=TABLE,
            column="description",
            row_id=evidence_id,
            text=body.description,
            actor=principal,
        ),
        obtained_at=body.obtained_at,
        document_ref=body.document_ref,
        recorded_by=principal.actor_id,
        agency_id=principal.agency_id,
    )
    session.add(row)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "evidence_recorded",
        principal=principal,
        ref_type="evidence",
        ref_id=row.id,
        detail=row.source,
    )
    await audit.record(
        session,
        action="evidence.create",
        resource_type="evidence",
        resource_id=row.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("description",),
    )
    return _shape(row, body.description)


async def list_evidence(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    params: PageParams,
) -> tuple[list[EvidencePublic], str | None]:
    """The case's evidence, newest first, descriptions decrypted; audited as one read."""
    granted = await get_granted_case(session, principal, case_id, action="evidence.list")
    case = granted.case
    statement = select(CaseEvidence).where(col(CaseEvidence.case_id) == case.id)
    if not granted.grant.whole_case:
        statement = statement.where(col(CaseEvidence.agency_id) == principal.agency_id)
    statement = paginate(
        statement,
        params,
        col(CaseEvidence.created_at),
        col(CaseEvidence.id),
    )
    rows = list((await session.execute(statement)).scalars())
    kept, cursor = page_of(rows, params, lambda r: (r.created_at, r.id))
    await audit.record(
        session,
        action="evidence.list",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("description",),
    )
    return [await _public(session, keys, principal, case, r) for r in kept], cursor


async def evidence_of_case(
    session: AsyncSession, case_id: uuid.UUID, evidence_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of `evidence_ids` that are evidence of this case."""
    found = await session.execute(
        select(col(CaseEvidence.id)).where(
            col(CaseEvidence.case_id) == case_id, col(CaseEvidence.id).in_(evidence_ids)
        )
    )
    return set(found.scalars())
