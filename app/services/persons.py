"""Persons: create, update, read (revealed or masked) and erase identity records.

Rules:
- Identity fields are encrypted with the person's own DEK before they reach the
  session, each bound to ("persons", column, person id, person id); blind indexes
  (national ID, phone, full name with date of birth) are stored beside them.
- Values are stored canonical (`app.services.person_fields`).
- A read decrypts explicitly and returns a `PersonView`: the values themselves
  (`reveal=True`, for a caller with the right and a stated purpose) or their masked
  forms; an erased person's identity fields read "[erased]".
- Erasure (crypto-shredding) deletes the DEK and the blind-index values and clears
  the ciphertext; the plain statistics columns stay with the case skeleton.
- Errors never carry a value, only field names. The audit trail records erasures and
  integrity failures here; reads and changes are recorded by the caller (the cases
  service), which knows the case and the purpose of use.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit.writer import record
from app.errors import Conflict, Gone, NotFound, ValidationFailed
from app.etag import stale
from app.i18n import text_of
from app.models import PersonBlindIndex, PersonKey
from app.models.person import (
    ENCRYPTED_COLUMNS,
    ErasureReason,
    Person,
    PersonKind,
)
from app.security import masking
from app.security.blind_index import PERSONS, BlindIndexer
from app.security.crypto import DataKey, FieldContext
from app.security.keyring import KeyProvider, WrappedKey
from app.security.principal import Principal
from app.services.documents import DocumentStore, PostgresDocumentStore
from app.services.person_fields import (
    INDEXED_FIELDS,
    PLAIN_FIELDS,
    PersonFields,
    enum_value,
    index_inputs,
    validated,
)
from app.services.vault import (
    Actor,
    integrity_failure,
    new_person_key,
    open_field,
    person_data_keys,
    unwrap_person_key,
)

__all__ = [
    "ENCRYPTED_COLUMNS",
    "PERSONS_WITH_KEYS",
    "PERSON_COLUMNS",
    "PERSON_TABLE",
    "PersonFields",
    "PersonView",
    "create_person",
    "erase_person",
    "open_fields",
    "person_key",
    "person_rows",
    "person_view",
    "read_person",
    "read_persons",
    "update_person",
]


@dataclass(frozen=True, repr=False)
class PersonView:
    """A person as a reader sees it: identity values revealed, masked or "[erased]".

    Revealed values are `Revealed` strings (redacted repr); the repr of the view shows
    ids and state only.
    """

    id: uuid.UUID
    kind: str
    revealed: bool
    erased: bool
    full_name: str | None
    other_names: str | None
    date_of_birth: str | None
    national_id: str | None
    phone: str | None
    address: str | None
    ethnicity: str | None
    sex: str | None
    nationality: str | None
    birth_year: int | None
    ethnicity_group: str | None
    hometown_province_code: str | None
    hometown_former_province_code: str | None
    version: int
    created_at: datetime
    erased_at: datetime | None

    def identity(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in ENCRYPTED_COLUMNS}

    def __repr__(self) -> str:
        state = "erased" if self.erased else ("revealed" if self.revealed else "masked")
        return f"PersonView(id={self.id}, kind={self.kind!r}, {state})"

    __str__ = __repr__


def field_context(person_id: uuid.UUID, column: str) -> FieldContext:
    return FieldContext(PERSONS, column, person_id, person_id)


def _index_rows(
    indexer: BlindIndexer, person_id: uuid.UUID, values: Mapping[str, Any]
) -> list[PersonBlindIndex]:
    computed = indexer.compute_available(PERSONS, index_inputs(values))
    return [
        PersonBlindIndex(index_name=name, value=value, person_id=person_id)
        for name, value in computed.items()
    ]


def _apply_plain(person: Person, values: Mapping[str, Any]) -> None:
    for name in PLAIN_FIELDS:
        if name in values:
            setattr(person, name, values[name])


async def create_person(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    kind: PersonKind | str,
    person_fields: PersonFields,
) -> Person:
    """Create a person with a new DEK, encrypted identity fields and blind indexes.

    Flushes; the caller's transaction commits. Validation errors name fields only.
    """
    try:
        kind_value = enum_value(PersonKind, kind)
    except ValueError as exc:
        raise ValidationFailed([{"field": "kind", "message": text_of(exc)}]) from None
    values = await validated(session, person_fields.given())
    person = Person(id=uuid.uuid4(), kind=kind_value)
    _apply_plain(person, values)
    data_key, key_row = await new_person_key(session, keys, person.id)
    for column in ENCRYPTED_COLUMNS:
        if column in values:
            setattr(
                person, column, data_key.encrypt(values[column], field_context(person.id, column))
            )
    session.add(person)
    await session.flush()  # inserted encrypted; the key and index rows refer to it
    session.add(key_row)
    session.add_all(_index_rows(indexer, person.id, values))
    await session.flush()
    return person


async def _locked(session: AsyncSession, person_id: uuid.UUID) -> Person:
    person = (
        await session.execute(select(Person).where(col(Person.id) == person_id).with_for_update())
    ).scalar_one_or_none()
    if person is None:
        raise NotFound()
    return person


async def update_person(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    person_id: uuid.UUID,
    person_fields: PersonFields,
    *,
    clear: Collection[str] = (),
    expected_version: int | None = None,
    actor: Actor = None,
) -> Person:
    """Set the given fields and clear those named in `clear`; re-encrypts the changed
    fields and recomputes the blind indexes. The row is locked for the update, so two
    concurrent updates cannot leave indexes that match neither.

    404 if the person does not exist, 410 if erased, 412 if `expected_version` is stale.
    """
    unknown = set(clear) - set(ENCRYPTED_COLUMNS) - set(PLAIN_FIELDS)
    if unknown:
        raise ValidationFailed([{"field": n, "message": "is not a person field"} for n in unknown])
    values = await validated(session, person_fields.given())
    person = await _locked(session, person_id)
    if person.erased_at is not None:
        raise Gone("The person was erased.")
    if expected_version is not None and person.version != expected_version:
        raise stale(person.version)
    data_key = (await person_data_keys(session, keys, [person.id], actor=actor)).get(person.id)
    if data_key is None:
        raise await _missing_key(session, person.id, actor)
    indexed_change = any(n in values or n in clear for n in INDEXED_FIELDS)
    current: dict[str, Any] = {}
    if indexed_change:
        stored = {name: getattr(person, name) for name in INDEXED_FIELDS}
        current = await open_fields(session, person.id, data_key, stored, actor)
    for column in ENCRYPTED_COLUMNS:
        if column in values:
            ctx = field_context(person.id, column)
            setattr(person, column, data_key.encrypt(values[column], ctx))
            current[column] = values[column]
        elif column in clear:
            setattr(person, column, None)
            current[column] = None
    _apply_plain(person, values)
    for name in set(clear) & set(PLAIN_FIELDS):
        setattr(person, name, None)
    if indexed_change:
        await session.execute(
            delete(PersonBlindIndex).where(col(PersonBlindIndex.person_id) == person.id)
        )
        session.add_all(_index_rows(indexer, person.id, current))
    person.version += 1
    person.updated_at = datetime.now(UTC)
    await session.flush()
    return person


async def _missing_key(session: AsyncSession, person_id: uuid.UUID, actor: Actor) -> Exception:
    # Erasure deletes the key and sets erased_at in one transaction; a live person
    # without a key means the database was changed behind the service's back.
    return await integrity_failure(
        session,
        resource_type="person",
        resource_id=person_id,
        person_id=person_id,
        fields=("data_key",),
        reason="data_key_missing",
        actor=actor,
    )


async def open_fields(
    session: AsyncSession,
    person_id: uuid.UUID,
    data_key: DataKey,
    ciphertexts: Mapping[str, bytes | None],
    actor: Actor,
) -> dict[str, Any]:
    """The plain values of a person's `persons` columns (None stays None)."""
    out: dict[str, Any] = {}
    for column, ciphertext in ciphertexts.items():
        out[column] = (
            None
            if ciphertext is None
            else await open_field(
                session, data_key, ciphertext, field_context(person_id, column), actor=actor
            )
        )
    return out


def _mask(column: str, value: str | None) -> str | None:
    masker = masking.MASKERS.get(column, masking.mask_text)
    return masker(value)


# A person's columns (labelled `person_<column>`) with its wrapped DEK beside them:
# one statement reads both (the key columns are NULL for an erased person, whose key
# is gone). The labels keep the columns apart from a case's when joined to one.
PERSON_TABLE = Person.metadata.tables[Person.__tablename__]
_KEYS = PersonKey.metadata.tables[PersonKey.__tablename__]
PERSON_COLUMNS = (
    *(column.label(f"person_{column.name}") for column in PERSON_TABLE.c),
    _KEYS.c.key_id.label("key_id"),
    _KEYS.c.kek_version.label("key_kek_version"),
    _KEYS.c.wrapped.label("key_wrapped"),
)
PERSONS_WITH_KEYS = PERSON_TABLE.outerjoin(_KEYS, _KEYS.c.person_id == PERSON_TABLE.c.id)
_PERSON_ROWS = select(*PERSON_COLUMNS).select_from(PERSONS_WITH_KEYS)


async def read_persons(
    session: AsyncSession,
    keys: KeyProvider,
    person_ids: Collection[uuid.UUID],
    *,
    reveal: bool,
    actor: Actor = None,
) -> dict[uuid.UUID, PersonView]:
    """Views of the persons that exist among `person_ids` (absent ids are left out).

    `reveal=True` returns the values; otherwise masked forms (`app.security.masking`).
    Deciding whether the caller may reveal, and recording the read, is the caller's.
    Rows are read as plain rows, never ORM objects, so an object the session holds
    from before an erasure or an update committed elsewhere cannot stand in for what
    the database holds now.
    """
    if not person_ids:
        return {}
    statement = _PERSON_ROWS.where(PERSON_TABLE.c.id.in_(list(person_ids)))
    rows = (await session.execute(statement)).mappings().all()
    views = [await person_view(session, keys, row, reveal=reveal, actor=actor) for row in rows]
    return {view.id: view for view in views}


def person_rows(join: Any, on: Any) -> Select[Any]:
    """SELECT of person rows (`person_<column>` and the wrapped key, as `read_persons`
    reads them) from persons joined to `join` on `on`, for a caller's own filters."""
    return select(*PERSON_COLUMNS).select_from(PERSONS_WITH_KEYS.join(join, on))


async def person_key(
    session: AsyncSession, keys: KeyProvider, row: Any, *, actor: Actor = None
) -> DataKey | None:
    """The DEK of a person row (`person_rows`), or None when it has none (erased)."""
    if row["key_id"] is None:
        return None
    return await unwrap_person_key(
        session,
        keys,
        row["key_id"],
        row["person_id"],
        WrappedKey(row["key_kek_version"], row["key_wrapped"]),
        actor=actor,
    )


async def person_view(
    session: AsyncSession,
    keys: KeyProvider,
    row: Any,
    *,
    reveal: bool,
    actor: Actor,
    withheld: bool = False,
) -> PersonView:
    """One person row (`PERSON_COLUMNS`, by label: a row mapping or a driver record)
    as its reader sees it; `withheld`: no identity value at all, not even masked, and
    nothing decrypted (integration clients)."""
    person_id: uuid.UUID = row["person_id"]
    erased = row["person_erased_at"] is not None
    identity: dict[str, Any]
    if erased:
        identity = dict.fromkeys(ENCRYPTED_COLUMNS, masking.ERASED)
    elif withheld:
        identity = dict.fromkeys(ENCRYPTED_COLUMNS)
        reveal = False
    else:
        data_key = await person_key(session, keys, row, actor=actor)
        if data_key is None:
            raise await _missing_key(session, person_id, actor)
        stored = {column: row[f"person_{column}"] for column in ENCRYPTED_COLUMNS}
        identity = await open_fields(session, person_id, data_key, stored, actor)
        if not reveal:
            identity = {c: _mask(c, v) for c, v in identity.items()}
    return PersonView(
        id=person_id,
        kind=row["person_kind"],
        revealed=reveal and not erased,
        erased=erased,
        **identity,
        sex=row["person_sex"],
        nationality=row["person_nationality"],
        birth_year=row["person_birth_year"],
        ethnicity_group=row["person_ethnicity_group"],
        hometown_province_code=row["person_hometown_province_code"],
        hometown_former_province_code=row["person_hometown_former_province_code"],
        version=row["person_version"],
        created_at=row["person_created_at"],
        erased_at=row["person_erased_at"],
    )


async def read_person(
    session: AsyncSession,
    keys: KeyProvider,
    person_id: uuid.UUID,
    *,
    reveal: bool,
    actor: Actor = None,
) -> PersonView:
    """One person's view (see `read_persons`); 404 if there is no such person."""
    views = await read_persons(session, keys, [person_id], reveal=reveal, actor=actor)
    if person_id not in views:
        raise NotFound()
    return views[person_id]


async def erase_person(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    principal: Principal | None,
    legal_basis: str,
    reason_code: ErasureReason | str | None = None,
    store: DocumentStore | None = None,
) -> Person:
    """Crypto-shred a person: delete the DEK and every blind-index value, clear the
    ciphertext and the stored documents, keep the statistics columns, and record
    `person.erase` in the audit trail in the same transaction.

    Anything else encrypted with this person's DEK, in any table, becomes unreadable
    with it. 404 if there is no such person; 409 if already erased. Authorisation
    (system administrator only) is the router's; `principal=None` is the retention
    run of the command line, recorded as the system.
    """
    reason = None if reason_code is None else enum_value(ErasureReason, reason_code)
    person = await _locked(session, person_id)
    if person.erased_at is not None:
        raise Conflict("The person has already been erased.")
    await session.execute(delete(PersonKey).where(col(PersonKey.person_id) == person.id))
    await session.execute(
        delete(PersonBlindIndex).where(col(PersonBlindIndex.person_id) == person.id)
    )
    await (store or PostgresDocumentStore(session)).delete_for_person(person.id)
    for column in ENCRYPTED_COLUMNS:
        setattr(person, column, None)
    now = datetime.now(UTC)
    person.erased_at = now
    person.updated_at = now
    person.erasure_legal_basis = legal_basis
    person.erasure_reason_code = reason
    person.erased_by = None if principal is None else principal.actor_id
    person.version += 1
    await session.flush()
    await record(
        session,
        action="person.erase",
        resource_type="person",
        resource_id=person.id,
        principal=principal,
        person_id=person.id,
        fields=ENCRYPTED_COLUMNS,
        reason=reason,
    )
    return person
