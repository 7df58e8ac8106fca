"""The values a referral shares: exactly its shared fields, nothing else of the case,
for the referral read and for a participant's read of the lead's case.

Fields are filtered before decryption: the victim's row is selected with only the
shared identity columns (the others as NULL), so no ciphertext of a field the reader
may not see reaches the process. Identity values are masked unless revealed, and
revealing is the caller's decision (a purpose of use and the permission, audited).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Uuid, bindparam, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.driver import DriverStatement
from app.models import Case
from app.models.person import ENCRYPTED_COLUMNS
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services.persons import PERSON_COLUMNS, PERSON_TABLE, PERSONS_WITH_KEYS, person_view

VICTIM_PREFIX = "victim."
CASE_PREFIX = "case."


@functools.lru_cache(maxsize=2 ** len(ENCRYPTED_COLUMNS))
def _victim_statement(columns: frozenset[str]) -> DriverStatement:
    """The person's row with only `columns` of its encrypted columns (others NULL)."""
    hidden = {f"person_{c}" for c in ENCRYPTED_COLUMNS if c not in columns}
    selected = [null().label(c.name) if c.name in hidden else c for c in PERSON_COLUMNS]
    return DriverStatement(
        select(*selected)
        .select_from(PERSONS_WITH_KEYS)
        .where(PERSON_TABLE.c.id == bindparam("person_id", type_=Uuid()))
    )


def _case_value(case: Mapping[str, Any], name: str) -> Any:
    if name == "received_location":
        return {
            "province_code": case["province_code"],
            "commune_code": case["received_commune_code"],
        }
    if name == "exploitation_types":
        return list(case["exploitation_types"])
    return case[name]


async def shared_values(
    session: AsyncSession,
    keys: KeyProvider,
    principal: Principal,
    case: Mapping[str, Any],
    fields: Iterable[str],
    *,
    reveal: bool,
) -> dict[str, Any]:
    """{dotted name: value} for exactly `fields` of `case` (a mapping of the case's
    columns); identity values masked unless `reveal`."""
    wanted = sorted(set(fields))
    values: dict[str, Any] = {}
    victim_fields = [f.removeprefix(VICTIM_PREFIX) for f in wanted if f.startswith(VICTIM_PREFIX)]
    if victim_fields:
        encrypted = frozenset(victim_fields) & set(ENCRYPTED_COLUMNS)
        victim_id: uuid.UUID = case["victim_person_id"]
        row = await _victim_statement(encrypted).fetchrow(session, {"person_id": victim_id})
        assert row is not None  # a foreign key
        view = await person_view(session, keys, row, reveal=reveal, actor=principal)
        for name in victim_fields:
            values[VICTIM_PREFIX + name] = getattr(view, name)
    for name in wanted:
        if name.startswith(CASE_PREFIX):
            values[name] = _case_value(case, name.removeprefix(CASE_PREFIX))
    return values


def is_identity(name: str) -> bool:
    """An identity field (encrypted), as opposed to the plain ones such as sex."""
    return name.startswith(VICTIM_PREFIX) and name.removeprefix(VICTIM_PREFIX) in set(
        ENCRYPTED_COLUMNS
    )


def seen_by(principal: Principal, fields: Iterable[str]) -> list[str]:
    """The fields this principal may receive: an integration client never receives an
    identity value, not even masked (its fields come as null)."""
    if principal.actor_type != "client":
        return list(fields)
    return [f for f in fields if not is_identity(f)]


def case_mapping(case: Case) -> dict[str, Any]:
    """A case ORM row as the mapping of its columns that `shared_values` reads."""
    return {column.name: getattr(case, column.name) for column in _CASE_COLUMNS}


_CASE_COLUMNS = Case.metadata.tables[Case.__tablename__].c
