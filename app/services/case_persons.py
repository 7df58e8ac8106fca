"""The persons of a case (victim, accompanying minors, relatives, people who help,
witnesses) as their reader sees them, with their role in the case: read in one
statement with their wrapped keys, or joined to a statement that selects the case
itself (the case read), so a case and its persons cost one round trip. Decrypting and
masking are `app.services.persons`'."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CasePerson
from app.security.keyring import KeyProvider
from app.services.pagination import PageParams, page_of, paginate
from app.services.persons import (
    PERSON_COLUMNS,
    PERSON_TABLE,
    PERSONS_WITH_KEYS,
    PersonView,
    person_view,
)
from app.services.vault import Actor

_CASE_LINKS = CasePerson.metadata.tables[CasePerson.__tablename__]
# A case's links joined to the persons and their keys; one row per person.
_LINKED_PERSONS = _CASE_LINKS.join(PERSONS_WITH_KEYS, PERSON_TABLE.c.id == _CASE_LINKS.c.person_id)
_LINKED_COLUMNS = (
    *PERSON_COLUMNS,
    _CASE_LINKS.c.role.label("link_role"),
    _CASE_LINKS.c.relation.label("link_relation"),
    _CASE_LINKS.c.age_estimate.label("link_age_estimate"),
    _CASE_LINKS.c.is_minor.label("link_is_minor"),
    _CASE_LINKS.c.age_basis.label("link_age_basis"),
    _CASE_LINKS.c.created_at.label("link_created_at"),
)
_LINK_ORDER = (_CASE_LINKS.c.created_at, _CASE_LINKS.c.person_id)

_CASE_PERSON_ROWS = (
    select(*_LINKED_COLUMNS)
    .select_from(_LINKED_PERSONS)
    .where(_CASE_LINKS.c.case_id == bindparam("case_id"))
    .order_by(*_LINK_ORDER)
)


# The persons of a case but its victim, newest first, for the pages of
# GET /cases/{id}/persons (`persons_page`).
_OTHER_PERSON_ROWS = (
    select(*_LINKED_COLUMNS)
    .select_from(_LINKED_PERSONS)
    .where(_CASE_LINKS.c.case_id == bindparam("case_id"), _CASE_LINKS.c.role != "victim")
)


@dataclass(frozen=True)
class CasePersonView:
    role: str
    relation: str | None
    person: PersonView
    age_estimate: int | None
    is_minor: bool | None
    age_basis: str | None
    added_at: datetime

    @property
    def minor(self) -> tuple[bool | None, str | None]:
        """Whether the person was under 18 when added, and on what basis. An accompanying
        minor recorded at intake, with nothing stored, is one by presumption."""
        if self.age_basis is None and self.role == "minor":
            return True, "presumed_minor"
        return self.is_minor, self.age_basis


def with_case_persons(statement: Select[Any], case_id: Any, when: Any = None) -> Select[Any]:
    """`statement`, which selects one case, with a row per person of the case (in the
    order they were linked) carrying the person's columns, key and role (none when
    the case has no person, or when the condition `when` is false: the persons are
    then not read at all). Read the rows with `case_person_views`."""
    on = _CASE_LINKS.c.case_id == case_id
    return (
        statement.add_columns(*_LINKED_COLUMNS)
        .outerjoin(_LINKED_PERSONS, on if when is None else and_(on, when))
        .order_by(*_LINK_ORDER)
    )


async def read_case_persons(
    session: AsyncSession,
    keys: KeyProvider,
    case_id: uuid.UUID,
    *,
    reveal: bool,
    actor: Actor = None,
) -> list[CasePersonView]:
    """The persons of a case with their role in it, in one statement (see
    `persons.read_persons`; the access check on the case is the caller's)."""
    rows = (await session.execute(_CASE_PERSON_ROWS, {"case_id": case_id})).mappings().all()
    return await case_person_views(session, keys, rows, reveal=reveal, actor=actor)


async def persons_page(
    session: AsyncSession,
    keys: KeyProvider,
    case_id: uuid.UUID,
    params: PageParams,
    *,
    reveal: bool,
    actor: Actor = None,
    withheld: bool = False,
    person_id: uuid.UUID | None = None,
) -> tuple[list[CasePersonView], str | None]:
    """One page of the persons of a case but its victim, newest first (or only
    `person_id`, when given); the access check on the case is the caller's."""
    statement = _OTHER_PERSON_ROWS
    if person_id is not None:
        statement = statement.where(_CASE_LINKS.c.person_id == person_id)
    statement = paginate(statement, params, _CASE_LINKS.c.created_at, _CASE_LINKS.c.person_id)
    rows = (await session.execute(statement, {"case_id": case_id})).mappings().all()
    kept, cursor = page_of(list(rows), params, lambda r: (r["link_created_at"], r["person_id"]))
    views = await case_person_views(
        session, keys, kept, reveal=reveal, actor=actor, withheld=withheld
    )
    return views, cursor


async def case_person_views(
    session: AsyncSession,
    keys: KeyProvider,
    rows: Sequence[Any],
    *,
    reveal: bool,
    actor: Actor = None,
    withheld: bool = False,
) -> list[CasePersonView]:
    """The views of the rows of `read_case_persons` or `with_case_persons`
    (`withheld`: see `persons.person_view`)."""
    return [
        CasePersonView(
            role=row["link_role"],
            relation=row["link_relation"],
            person=await person_view(
                session, keys, row, reveal=reveal, actor=actor, withheld=withheld
            ),
            age_estimate=row["link_age_estimate"],
            is_minor=row["link_is_minor"],
            age_basis=row["link_age_basis"],
            added_at=row["link_created_at"],
        )
        for row in rows
        if row["link_role"] is not None
    ]
