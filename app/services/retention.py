"""Identity retention: the persons of cases closed longer ago than
`VCM_IDENTITY_RETENTION_DAYS` are crypto-shredded (`persons.erase_person`, reason
`retention_expired`, one `person.erase` audit event each), their statistics columns
kept. A person still on a case that is open, or closed more recently, is kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, CompoundSelect, and_, exists, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.workflow import CaseStatus
from app.models import Case, CasePerson, Person
from app.models.person import ErasureReason
from app.services import persons


@dataclass(frozen=True)
class RetentionResult:
    cases: int
    persons: int
    erased: int


def _expired(cutoff: datetime) -> ColumnElement[bool]:
    # Never NULL (a closed case without its closing time is kept), so NOT works.
    return and_(
        col(Case.status) == CaseStatus.CLOSED.value,
        col(Case.closed_at).is_not(None),
        col(Case.closed_at) < cutoff,
    )


def _links() -> CompoundSelect:
    """Every (case, person) pair: the victim and the case's other persons."""
    return union(
        select(col(Case.id).label("case_id"), col(Case.victim_person_id).label("person_id")),
        select(col(CasePerson.case_id), col(CasePerson.person_id)),
    )


async def due(session: AsyncSession, cutoff: datetime) -> tuple[int, list[uuid.UUID]]:
    """The cases closed before `cutoff` and the not yet erased persons to erase: on
    such a case, and on no case that is not."""
    links = _links().subquery()
    expired_cases = select(col(Case.id)).where(_expired(cutoff))
    kept_cases = select(col(Case.id)).where(~_expired(cutoff))
    cases = (await session.execute(expired_cases)).scalars().all()
    person_ids = (
        (
            await session.execute(
                select(col(Person.id))
                .where(
                    col(Person.erased_at).is_(None),
                    exists().where(
                        links.c.person_id == col(Person.id), links.c.case_id.in_(expired_cases)
                    ),
                    ~exists().where(
                        links.c.person_id == col(Person.id), links.c.case_id.in_(kept_cases)
                    ),
                )
                .order_by(col(Person.id))
            )
        )
        .scalars()
        .all()
    )
    return len(cases), list(person_ids)


async def run(
    session: AsyncSession, *, days: int | None, now: datetime, dry_run: bool
) -> RetentionResult:
    """Erase (or, with `dry_run`, only count) the identities past retention. Without a
    retention period nothing is due."""
    if days is None:
        return RetentionResult(cases=0, persons=0, erased=0)
    cases, person_ids = await due(session, now - timedelta(days=days))
    if dry_run:
        return RetentionResult(cases=cases, persons=len(person_ids), erased=0)
    basis = (
        f"Retention period expired: identity is kept {days} days after the case is closed "
        "(VCM_IDENTITY_RETENTION_DAYS)."
    )
    for person_id in person_ids:
        await persons.erase_person(
            session,
            person_id,
            principal=None,
            legal_basis=basis,
            reason_code=ErasureReason.RETENTION_EXPIRED,
        )
    return RetentionResult(cases=cases, persons=len(person_ids), erased=len(person_ids))
