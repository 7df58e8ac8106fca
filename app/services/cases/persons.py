"""Persons of a case other than the victim: relatives, accompanying minors, people who
help and witnesses, added after intake and listed (`/cases/{id}/persons`).

Rules:
- The law protects the victim, any under-18 travelling with them, their relatives and
  people who help; witnesses are protected too. Each added person is a `persons` row
  of its own (encrypted identity, own data key, blind indexes) linked to the case
  through `case_persons` in the role `minor`, `relative`, `helper` or `witness`, so a
  protection measure can name them (`app.services.cases.protection`). Supports are
  for the victim and an accompanying minor only (`app.services.cases.support`).
- Adding is the lead's (`case_person.create` is in no participant role); the case row
  is locked and its version moves on, since the case read lists its persons.
- Age: the date of birth, else `age_estimate` (whole years), says whether the person
  was under 18 on the day they were added (Vietnam's calendar); an accompanying minor
  with neither is presumed one until established, and one shown to be 18 or older is
  422 (add them as a relative). Other persons of unknown age stay unknown (null).
- The answer to an add is masked (it is kept for Idempotency-Key replays). Reads are
  masked; `reveal=identity` with a purpose of use reveals them to a caller with
  `cases:reveal_identity` (else 403, audited). Each revealed person is one
  `case_person.reveal` audit row naming them and the purpose.
- The timeline says who added which kind of person, never who the person is.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.domain.age import assess
from app.errors import NotFound, ValidationFailed
from app.models import CasePerson
from app.models.person import ENCRYPTED_COLUMNS, PersonKind
from app.schemas.case import CasePersonKind, CasePersonPublic
from app.schemas.case_persons import CasePersonCreate
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services import case_persons, restriction
from app.services import persons as vault
from app.services.cases import timeline
from app.services.cases.access import get_granted_case
from app.services.cases.intake import VIETNAM
from app.services.cases.read import case_person_public, refuse_reveal, reveal_purpose
from app.services.cases.stats import age_on
from app.services.pagination import PageParams
from app.services.person_fields import PersonFields

K = CasePersonKind
# The kind of the person record and the role in the case of each kind of person added.
PERSON_KIND: dict[CasePersonKind, PersonKind] = {
    K.RELATIVE: PersonKind.RELATIVE,
    K.ACCOMPANYING_MINOR: PersonKind.MINOR,
    K.HELPER: PersonKind.HELPER,
    K.WITNESS: PersonKind.WITNESS,
}
ROLE: dict[CasePersonKind, str] = {kind: str(PERSON_KIND[kind]) for kind in CasePersonKind}
_REVEALED_FIELDS = tuple(f"persons.{column}" for column in ENCRYPTED_COLUMNS)
_ONE = PageParams(limit=1, cursor=None)


def minor_on(body: CasePersonCreate, day: date) -> tuple[bool | None, str | None]:
    """Whether the person is under 18 on `day`, and what says so (`app.domain.age`;
    only an accompanying minor is presumed one while the age is unknown)."""
    born = body.date_of_birth
    if born is not None and born > day:
        raise ValidationFailed([{"field": "date_of_birth", "message": "is in the future"}])
    from_birth = age_on(born, day) if born is not None else None
    if from_birth is None and body.age_estimate is None and body.kind is not K.ACCOMPANYING_MINOR:
        return None, None
    age = assess(from_birth, body.age_estimate)
    return age.is_minor, age.basis.value


def _fields(body: CasePersonCreate) -> PersonFields:
    return PersonFields(
        full_name=body.full_name,
        other_names=body.other_names,
        date_of_birth=body.date_of_birth,
        national_id=body.national_id,
        phone=body.phone,
        address=body.address,
        ethnicity=body.ethnicity,
        sex=body.sex,
        nationality=body.nationality,
        hometown_province_code=body.hometown_province_code,
    )


async def add_person(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    principal: Principal,
    case_id: uuid.UUID,
    body: CasePersonCreate,
) -> CasePersonPublic:
    """Add a person to a case the caller leads (module rules); the answer is masked."""
    action = "case_person.create"
    granted = await get_granted_case(session, principal, case_id, action=action, for_update=True)
    case = granted.case
    is_minor, age_basis = minor_on(body, datetime.now(VIETNAM).date())
    if body.kind is K.ACCOMPANYING_MINOR and is_minor is False:
        field = "date_of_birth" if age_basis == "date_of_birth" else "age_estimate"
        raise ValidationFailed(
            [{"field": field, "message": "an accompanying minor is under 18; add a relative"}]
        )
    person_fields = _fields(body)
    person = await vault.create_person(
        session, keys, indexer, PERSON_KIND[body.kind], person_fields
    )
    session.add(
        CasePerson(
            case_id=case.id,
            person_id=person.id,
            role=ROLE[body.kind],
            relation=body.relation,
            age_estimate=body.age_estimate,
            is_minor=is_minor,
            age_basis=age_basis,
        )
    )
    case.version += 1
    case.updated_at = datetime.now(UTC)
    await session.flush()
    await timeline.append(
        session,
        case.id,
        "person_added",
        principal=principal,
        ref_type="person",
        ref_id=person.id,
        detail=body.kind.value,
    )
    await audit.record(
        session,
        action=action,
        resource_type="person",
        resource_id=person.id,
        principal=principal,
        person_id=person.id,
        fields=tuple(sorted(person_fields.given())),
    )
    (view,), _ = await case_persons.persons_page(
        session, keys, case.id, _ONE, reveal=False, actor=principal, person_id=person.id
    )
    return case_person_public(view)


async def list_persons(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case_id: uuid.UUID,
    params: PageParams,
    *,
    reveal: str | None = None,
    purpose: str | None = None,
    person_id: uuid.UUID | None = None,
) -> tuple[list[CasePersonPublic], str | None]:
    """A page of the persons of a case but its victim, newest first, masked or
    revealed (module rules); with `person_id`, that one person (404 if not one of
    them). Audited as `case_person.list`, `case_person.read` or `case_person.reveal`."""
    code = reveal_purpose(principal, reveal, purpose)
    read_action = "case_person.list" if person_id is None else "case_person.read"
    granted = await get_granted_case(session, principal, case_id, action=read_action)
    case = granted.case
    if code is not None and not principal.can(Permission.CASES_REVEAL_IDENTITY):
        raise await refuse_reveal(
            session,
            principal,
            action="case_person.reveal",
            resource_type="case",
            resource_id=case.id,
            person_id=person_id,
            purpose=code,
        )
    views, cursor = await case_persons.persons_page(
        session,
        keys,
        case.id,
        params if person_id is None else _ONE,
        reveal=code is not None,
        actor=principal,
        # An integration client never receives an identity value, not even masked.
        withheld=principal.actor_type == "client",
        person_id=person_id,
    )
    if person_id is not None and not views:
        raise NotFound()
    revealed = [view.person.id for view in views if view.person.revealed]
    if code is not None:
        await restriction.check_reveal(
            session,
            principal,
            revealed,
            action="case_person.reveal",
            resource_type="case",
            resource_id=case.id,
            purpose=code,
        )
    if code is not None and revealed:
        for revealed_id in revealed:
            await audit.record(
                session,
                action="case_person.reveal",
                resource_type="case",
                resource_id=case.id,
                principal=principal,
                person_id=revealed_id,
                fields=_REVEALED_FIELDS,
                purpose=code,
            )
    else:
        await audit.record(
            session,
            action=read_action,
            resource_type="case",
            resource_id=case.id,
            principal=principal,
            person_id=person_id,
            purpose=code,
        )
    return [case_person_public(view) for view in views], cursor
