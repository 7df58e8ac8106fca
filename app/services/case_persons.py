"""The persons of a case (victim, accompanying minors, relatives) as their reader sees
them, with their role in the case: read in one statement with their wrapped keys, or
joined to a statement that selects the case itself (the case read), so a case and its
persons cost one round trip. Decrypting and masking are `app.services.persons`'."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CasePerson
from app.security.keyring import KeyProvider
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
)
_LINK_ORDER = (_CASE_LINKS.c.created_at, _CASE_LINKS.c.person_id)

_CASE_PERSON_ROWS = (
    select(*_LINKED_COLUMNS)
    .select_from(_LINKED_PERSONS)
    .where(_CASE_LINKS.c.case_id == bindparam("case_id"))
    .order_by(*_LINK_ORDER)
)


@dataclass(frozen=True)
class CasePersonView:
    role: str
    relation: str | None
    person: PersonView


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
        )
        for row in rows
        if row["link_role"] is not None
    ]
