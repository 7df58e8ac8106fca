"""Identification decisions (xác định nạn nhân): victim or not a victim.

Rules:
- Only a competent agency (kind with the function `identify`) decides: the lead, or
  a participant in an identification or investigation role, whose decision lands on
  the lead's case and moves it (`app.services.cases.access`); others who reach the
  case get 403, audited.
- The case must be under verification (`verifying`); otherwise 409. So a case has
  one decision, unless a `not_victim` case is reopened (back to `verifying` with the
  grounds on record), after which a new decision may follow.
- The decision rests on at least one piece of evidence of this very case (422 for
  an id that is not).
- The decision moves the case to `identified` / `not_identified` through
  `apply_transition(..., by_decision=True)`, referring to the decision.
- The legal basis and the certificate number are sealed under the victim's data key;
  the answer to the decision shows them as written, GET returns them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.workflow import CaseStatus
from app.errors import Conflict, ValidationFailed
from app.models import Case, IdentificationDecision
from app.models.case_records import IdentificationOutcome
from app.schemas.case_records import IdentificationCreate, IdentificationPublic
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.cases import case_text
from app.services.cases.access import get_granted_case, get_readable_case
from app.services.cases.evidence import evidence_of_case
from app.services.cases.transitions import apply_transition
from app.services.pagination import PageParams, page_of, paginate

TABLE = "identification_decisions"
_TARGET = {
    IdentificationOutcome.VICTIM: CaseStatus.IDENTIFIED,
    IdentificationOutcome.NOT_VICTIM: CaseStatus.NOT_IDENTIFIED,
}


class IdentificationRefused(Conflict):
    slug = "identification-not-open"
    title_en, title_vi = (
        "The case is not awaiting an identification decision",
        "Vụ việc không ở bước xác định nạn nhân",
    )


async def _seal(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    decision_id: uuid.UUID,
    column: str,
    text: str,
) -> bytes:
    return await case_text.seal_text(
        session,
        keys,
        victim_person_id=case.victim_person_id,
        table=TABLE,
        column=column,
        row_id=decision_id,
        text=text,
        actor=principal,
    )


async def _public(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Case,
    row: IdentificationDecision,
    *,
    written: dict[str, str | None] | None = None,
) -> IdentificationPublic:
    """The decision, its sealed texts opened (or, for the answer to the decision,
    the texts just `written`, not decrypted again)."""

    async def opened(column: str, ciphertext: bytes | None) -> str | None:
        if written is not None:
            return written[column]
        return await case_text.open_text(
            session,
            keys,
            victim_person_id=case.victim_person_id,
            table=TABLE,
            column=column,
            row_id=row.id,
            ciphertext=ciphertext,
            actor=principal,
        )

    return IdentificationPublic(
        id=row.id,
        case_id=row.case_id,
        decision=IdentificationOutcome(row.decision),
        decided_at=row.decided_at,
        legal_basis=await opened("legal_basis", row.legal_basis),
        evidence_ids=list(row.evidence_ids),
        certificate_number=await opened("certificate_number", row.certificate_number),
        decided_by=row.decided_by,
        agency_id=row.agency_id,
        case_status=case.status,
        created_at=row.created_at,
    )


async def decide(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    body: IdentificationCreate,
) -> IdentificationPublic:
    """Record the decision and move the case accordingly (see the module rules)."""
    action = "case.identification"
    granted = await get_granted_case(session, principal, case_id, action=action, for_update=True)
    case = granted.case
    if case.status != CaseStatus.VERIFYING.value:
        raise IdentificationRefused(
            "An identification decision is taken on a case under verification.",
            extra={"case_status": case.status},
        )
    evidence_ids = list(dict.fromkeys(body.evidence_ids))
    foreign = set(evidence_ids) - await evidence_of_case(session, case.id, evidence_ids)
    if foreign:
        raise ValidationFailed(
            [{"field": "evidence_ids", "message": "every id must be evidence of this case"}]
        )
    decision_id = uuid.uuid4()
    row = IdentificationDecision(
        id=decision_id,
        case_id=case.id,
        decision=body.decision.value,
        decided_at=body.decided_at,
        legal_basis=await _seal(
            session, keys, principal, case, decision_id, "legal_basis", body.legal_basis
        ),
        evidence_ids=evidence_ids,
        certificate_number=(
            await _seal(
                session,
                keys,
                principal,
                case,
                decision_id,
                "certificate_number",
                body.certificate_number,
            )
            if body.certificate_number
            else None
        ),
        decided_by=principal.actor_id,
        agency_id=principal.agency_id,
    )
    session.add(row)
    await session.flush()
    await apply_transition(
        session,
        keys,
        principal,
        case,
        _TARGET[body.decision],
        reason=None,
        by_decision=True,
        functions=granted.grant.functions,
        ref_type="identification",
        ref_id=row.id,
    )
    await audit.record(
        session,
        action=action,
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("legal_basis", "certificate_number")
        if body.certificate_number
        else ("legal_basis",),
        reason=body.decision.value,
    )
    written = {
        "legal_basis": body.legal_basis,
        "certificate_number": body.certificate_number or None,
    }
    return await _public(session, keys, principal, case, row, written=written)


async def list_decisions(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    params: PageParams,
) -> tuple[list[IdentificationPublic], str | None]:
    """The decisions on the case, oldest first (a reopened case has more than one)."""
    case = await get_readable_case(session, principal, case_id, action="identification.list")
    statement = paginate(
        select(IdentificationDecision).where(col(IdentificationDecision.case_id) == case.id),
        params,
        col(IdentificationDecision.created_at),
        col(IdentificationDecision.id),
        oldest_first=True,
    )
    found = list((await session.execute(statement)).scalars())
    rows, cursor = page_of(found, params, lambda r: (r.created_at, r.id))
    await audit.record(
        session,
        action="identification.list",
        resource_type="case",
        resource_id=case.id,
        principal=principal,
        person_id=case.victim_person_id,
        fields=("legal_basis", "certificate_number"),
    )
    return [await _public(session, keys, principal, case, r) for r in rows], cursor
