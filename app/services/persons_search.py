"""Exact-match search over encrypted identity fields, through blind indexes.

Rule: the blind index only nominates candidates. Index values are truncated HMACs
(20 bits by default), so many unrelated persons share each value on purpose; every
candidate is decrypted and its normalised value compared with the normalised query,
and only exact matches are returned. A false positive never reaches the caller.

Searches: national ID; phone; full name together with date of birth (a name alone,
or a birth date alone, is not searchable: API.md, `cases/search`). Erased persons
have no index rows and no key, so they are never found.

Rule (timing): a search made for a user (`within`) nominates only persons of cases
that user reads, in the same single statement as the index lookup. A person of
another agency's case is dropped inside PostgreSQL, before any key is unwrapped or
field decrypted, so searching for them costs what searching for no one costs: the
same statement, no rows, nothing decrypted (`bench/search_timing.py` measures it).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ARRAY, Boolean, LargeBinary, String, Uuid, all_, any_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.driver import DriverStatement
from app.errors import ValidationFailed
from app.i18n import text_of
from app.models import CasePerson
from app.models.person import PersonBlindIndex, PersonKind
from app.security.blind_index import PERSONS, BlindIndexer
from app.security.keyring import KeyProvider
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.cases.access import CASES_TABLE, readable_rows, reader
from app.services.persons import (
    PERSON_TABLE,
    PersonFields,
    open_fields,
    person_key,
    person_rows,
)
from app.services.vault import Actor

__all__ = ["MatchKind", "PersonMatch", "find_matches", "search_persons"]

MatchKind = Literal["national_id", "phone", "name_and_birth_date"]

# Index name -> (match vocabulary of API.md, the person columns it covers).
_INDEXES: dict[str, tuple[MatchKind, tuple[str, ...]]] = {
    "national_id": ("national_id", ("national_id",)),
    "phone": ("phone", ("phone",)),
    "name_dob": ("name_and_birth_date", ("full_name", "date_of_birth")),
}


_INDEX_ROWS = PersonBlindIndex.metadata.tables[PersonBlindIndex.__tablename__]
# The persons some index values nominate, with their keys and the index row that
# nominated them, oldest first: one statement for every index asked (intake's
# duplicate check asks up to three), built once, run on the driver. Index names,
# values, kinds and exclusions are arrays (`= ANY`, `<> ALL`), so the statement never
# changes shape; a name paired with another name's value is dropped by the caller.
_ALL_CANDIDATES = (
    person_rows(_INDEX_ROWS, _INDEX_ROWS.c.person_id == PERSON_TABLE.c.id)
    .add_columns(
        _INDEX_ROWS.c.index_name.label("index_name"), _INDEX_ROWS.c.value.label("index_value")
    )
    .where(
        _INDEX_ROWS.c.index_name == any_(bindparam("index_names", type_=ARRAY(String))),
        _INDEX_ROWS.c.value == any_(bindparam("values", type_=ARRAY(LargeBinary))),
        PERSON_TABLE.c.erased_at.is_(None),
        PERSON_TABLE.c.kind == any_(bindparam("kinds", type_=ARRAY(String))),
        PERSON_TABLE.c.id != all_(bindparam("exclude", type_=ARRAY(Uuid))),
    )
    .order_by(PERSON_TABLE.c.created_at, PERSON_TABLE.c.id)
)
_CANDIDATES = DriverStatement(_ALL_CANDIDATES)

_CASE_PERSONS = CasePerson.metadata.tables[CasePerson.__tablename__]
# The same, kept to the persons of cases a reader reads whole (bound: `reader()`, and
# `may_read`, false for a caller without `cases:read`, so that caller runs the same
# statement and gets no rows): the access filter is part of the index lookup.
_CANDIDATES_IN_REACH = DriverStatement(
    _ALL_CANDIDATES.where(
        bindparam("may_read", type_=Boolean),
        PERSON_TABLE.c.id.in_(
            select(_CASE_PERSONS.c.person_id).where(
                _CASE_PERSONS.c.case_id.in_(readable_rows().with_only_columns(CASES_TABLE.c.id))
            )
        ),
    )
)


@dataclass(frozen=True)
class PersonMatch:
    """A person whose stored value equals the query exactly, and by which index."""

    person_id: uuid.UUID
    match: MatchKind


async def _exact_matches(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    queries: dict[str, tuple[Any, ...]],
    *,
    kinds: Collection[PersonKind | str] | None,
    exclude: Collection[uuid.UUID],
    actor: Actor,
    within: Principal | None,
) -> dict[str, list[uuid.UUID]]:
    """For each index asked (name -> the values it covers, which normalise), the
    persons whose stored values equal them exactly, oldest first: one statement.
    With `within`, only persons of cases that principal reads (module rule)."""
    targets = {index: indexer.normalized(PERSONS, index, *v) for index, v in queries.items()}
    wanted = {(index, indexer.compute(PERSONS, index, *v)) for index, v in queries.items()}
    params: dict[str, Any] = {
        "index_names": [index for index, _ in wanted],
        "values": [value for _, value in wanted],
        "kinds": [str(k) for k in (kinds or PersonKind)],
        "exclude": list(exclude),
    }
    statement = _CANDIDATES
    if within is not None:
        statement = _CANDIDATES_IN_REACH
        params |= reader(within) | {"may_read": within.can(Permission.CASES_READ)}
    found: dict[str, list[uuid.UUID]] = {index: [] for index in queries}
    for row in await statement.fetch(session, params):
        index = row["index_name"]
        if (index, row["index_value"]) not in wanted:
            continue  # another index's value under this name
        _, columns = _INDEXES[index]
        data_key = await person_key(session, keys, row, actor=actor)
        ciphertexts = {c: row[f"person_{c}"] for c in columns}
        if data_key is None or None in ciphertexts.values():
            continue  # an index row without its field or key cannot be a match
        person_id = row["person_id"]
        opened = await open_fields(session, person_id, data_key, ciphertexts, actor)
        plain = [opened[c] for c in columns]
        try:
            if indexer.normalized(PERSONS, index, *plain) == targets[index]:
                found[index].append(person_id)
        except ValueError:
            continue  # a stored value that no longer normalises matches nothing
    return found


async def search_persons(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    *,
    national_id: str | None = None,
    phone: str | None = None,
    full_name: str | None = None,
    date_of_birth: date | None = None,
    kinds: Collection[PersonKind | str] | None = None,
    actor: Actor = None,
    within: Principal | None = None,
) -> list[uuid.UUID]:
    """Ids of the persons whose national ID, phone, or full name and date of birth
    equal the query after normalisation; oldest first. With `within`, only persons of
    cases that principal reads, filtered in the lookup itself (module rule).

    Exactly one criterion: `national_id`, `phone`, or `full_name` with
    `date_of_birth`. Anything else is 422.
    """
    given = [name for name, v in (("national_id", national_id), ("phone", phone)) if v]
    if full_name or date_of_birth:
        given.append("name_dob")
    if len(given) != 1 or (given == ["name_dob"] and not (full_name and date_of_birth)):
        raise ValidationFailed(
            [
                {
                    "field": "query",
                    "message": "give exactly one of: national_id; phone; "
                    "full_name with date_of_birth",
                }
            ]
        )
    index = given[0]
    values: tuple[Any, ...] = {
        "national_id": (national_id,),
        "phone": (phone,),
        "name_dob": (full_name, date_of_birth),
    }[index]
    try:
        indexer.normalized(PERSONS, index, *values)
    except ValueError as exc:  # normalisers never quote the value
        field = {"name_dob": "full_name"}.get(index, index)
        raise ValidationFailed([{"field": field, "message": text_of(exc)}]) from None
    found = await _exact_matches(
        session,
        keys,
        indexer,
        {index: values},
        kinds=kinds,
        exclude=(),
        actor=actor,
        within=within,
    )
    return found[index]


async def find_matches(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    person_fields: PersonFields,
    *,
    kinds: Collection[PersonKind | str] | None = None,
    exclude: Collection[uuid.UUID] = (),
    actor: Actor = None,
    within: Principal | None = None,
) -> list[PersonMatch]:
    """Possible duplicates of a person about to be recorded: every existing person
    matching exactly on national ID, on phone, or on full name with date of birth
    (with `within`, of cases that principal reads, as `search_persons`).

    Fields that do not normalise are ignored here (creation validates them).
    """
    given = {
        "national_id": person_fields.national_id,
        "phone": person_fields.phone,
        "full_name": person_fields.full_name,
        "date_of_birth": person_fields.date_of_birth,
    }
    queries: dict[str, tuple[Any, ...]] = {}
    for index, (_, columns) in _INDEXES.items():
        values = tuple(given[c] for c in columns)
        if any(v is None for v in values):
            continue
        try:
            indexer.normalized(PERSONS, index, *values)
        except ValueError:
            continue
        queries[index] = values
    if not queries:
        return []
    found = await _exact_matches(
        session, keys, indexer, queries, kinds=kinds, exclude=exclude, actor=actor, within=within
    )
    # A person found by several indexes is named by the first, in `_INDEXES` order.
    matches: dict[uuid.UUID, PersonMatch] = {}
    for index, (match, _) in _INDEXES.items():
        for person_id in found.get(index, ()):
            matches.setdefault(person_id, PersonMatch(person_id, match))
    return list(matches.values())
