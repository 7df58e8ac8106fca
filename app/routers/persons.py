"""Persons: `POST /api/v1/persons/{id}/erasure`. Persons are otherwise read and
written through cases."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from app.db import SessionDep, TransactionRoute
from app.deps import require
from app.models.person import ErasureReason
from app.schemas.common import problem_responses
from app.schemas.person import PersonErasureCreate, PersonErasurePublic
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import persons as service

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/persons",
    tags=["persons"],
    responses=problem_responses(401, 404, 409),
)

# Hidden: a role that may not erase learns nothing about which persons exist.
ErasePersons = Annotated[Principal, require(Permission.PERSONS_ERASE, hide=True)]


@router.post("/{person_id}/erasure", response_model=PersonErasurePublic)
async def erase_person(
    session: SessionDep, principal: ErasePersons, person_id: uuid.UUID, body: PersonErasureCreate
) -> PersonErasurePublic:
    """Crypto-shred a person: their data key and blind-index values are deleted, their
    identity fields read "[erased]" from then on, and the case skeleton stays."""
    person = await service.erase_person(
        session,
        person_id,
        principal=principal,
        legal_basis=body.legal_basis,
        reason_code=body.reason_code,
    )
    assert person.erased_at is not None
    reason = person.erasure_reason_code
    return PersonErasurePublic(
        person_id=person.id,
        erased_at=person.erased_at,
        reason_code=ErasureReason(reason) if reason else None,
    )
