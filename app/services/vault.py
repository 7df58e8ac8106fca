"""The identity vault's key handling: every service that encrypts or decrypts a
person's data goes through here.

Rules:
- A person's data key (DEK) is made once, with the person (`new_person_key`), and is
  stored only wrapped by the key ring's current KEK, in `person_keys`.
- Every wrap of a new DEK happens under the rotation barrier (a shared transaction
  advisory lock): a KEK rotation takes the same lock exclusively once, after the new
  version is published, so it knows every DEK wrapped under an older version has
  committed (or rolled back) before it starts rewrapping. No DEK is left behind.
- Decryption is explicit and fails closed: a ciphertext or wrapped DEK that does not
  authenticate is recorded in the audit trail (`integrity.error`) and answered with
  `DataIntegrityFailure` (500, `keep_work`, so the record commits). A missing DEK of a
  person not erased is the same failure; an erased person's fields read "[erased]".
  `keep_work` commits whatever else the request wrote too, so services decrypt what
  they need before they write (reads are where failures surface).
- Nothing here logs or raises a value: messages name tables, columns and ids.

Fields of other tables that belong to a person (a case's evidence description, a
statement) use the same DEK with their own `FieldContext(table, column, row id,
person id)`: `person_data_keys` gives the keys, `open_field` decrypts, and erasing the
person makes those fields unreadable too, wherever they are.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit.writer import AuditContext, record
from app.errors import Conflict, DataIntegrityFailure
from app.logging import request_id_var
from app.models.person import PersonKey
from app.security.crypto import (
    DataKey,
    FieldContext,
    IntegrityError,
    Revealed,
    create_data_key,
    open_data_key,
)
from app.security.keyring import KeyProvider, WrappedKey
from app.security.masking import ERASED
from app.security.principal import Principal

_T = TypeVar("_T")

log = logging.getLogger("vcm.vault")

# pg_advisory_xact_lock key of the rotation barrier ("vcm-kek" in ASCII).
ROTATION_BARRIER = 0x76636D2D6B656B

# Audit resource types of the tables whose ciphertext the vault opens.
RESOURCE_TYPES = {"persons": "person", "person_documents": "person_document"}

Actor = Principal | AuditContext | None
"""Who is acting, for the audit trail: a request's principal, a CLI or worker context."""


def split_actor(actor: Actor) -> tuple[Principal | None, AuditContext | None]:
    """`actor` as the (principal, context) pair that `record()` takes. With no actor,
    the event still carries the current request's id (set by the middleware)."""
    if isinstance(actor, Principal):
        return actor, None
    if actor is not None:
        return None, actor
    request_id = request_id_var.get()
    if request_id is None:
        return None, None
    return None, AuditContext(request_id=request_id, actor_type="system")


async def rotation_barrier_shared(session: AsyncSession) -> None:
    """Hold the rotation barrier (shared) until this transaction ends; call before
    wrapping a new DEK."""
    await session.execute(select(func.pg_advisory_xact_lock_shared(ROTATION_BARRIER)))


async def new_person_key(
    session: AsyncSession, keys: KeyProvider, person_id: uuid.UUID
) -> tuple[DataKey, PersonKey]:
    """A fresh DEK for `person_id` and its wrapped form as a row, to add once the
    `persons` row is flushed (foreign key)."""
    await rotation_barrier_shared(session)
    data_key, wrapped = create_data_key(keys, person_id)
    row = PersonKey(
        key_id=data_key.key_id,
        person_id=person_id,
        kek_version=wrapped.kek_version,
        wrapped=wrapped.blob,
    )
    return data_key, row


async def integrity_failure(
    session: AsyncSession,
    *,
    resource_type: str,
    resource_id: uuid.UUID,
    person_id: uuid.UUID | None,
    fields: Collection[str],
    reason: str,
    actor: Actor,
) -> DataIntegrityFailure:
    """Record an integrity failure in the audit trail and return the error to raise.

    The error has `keep_work`, so the request's transaction commits the record even
    though the caller gets a 500.
    """
    log.error(
        "integrity failure on %s %s (fields %s): %s",
        resource_type,
        resource_id,
        ",".join(sorted(fields)),
        reason,
    )
    principal, context = split_actor(actor)
    await record(
        session,
        action="integrity.error",
        resource_type=resource_type,
        resource_id=resource_id,
        person_id=person_id,
        fields=tuple(fields),
        outcome="error",
        reason=reason,
        principal=principal,
        context=context,
    )
    return DataIntegrityFailure()


async def person_data_keys(
    session: AsyncSession,
    keys: KeyProvider,
    person_ids: Collection[uuid.UUID],
    *,
    actor: Actor = None,
) -> dict[uuid.UUID, DataKey]:
    """The unwrapped DEKs of `person_ids` that still have one (erased persons have
    none, so they are simply absent). A wrapped DEK that fails to unwrap is an
    integrity failure (recorded, then raised)."""
    if not person_ids:
        return {}
    rows = (
        await session.execute(
            select(
                col(PersonKey.key_id),
                col(PersonKey.person_id),
                col(PersonKey.kek_version),
                col(PersonKey.wrapped),
            ).where(col(PersonKey.person_id).in_(list(person_ids)))
        )
    ).all()
    return {
        person_id: await unwrap_person_key(
            session, keys, key_id, person_id, WrappedKey(version, blob), actor=actor
        )
        for key_id, person_id, version, blob in rows
    }


async def unwrap_person_key(
    session: AsyncSession,
    keys: KeyProvider,
    key_id: uuid.UUID,
    person_id: uuid.UUID,
    wrapped: WrappedKey,
    *,
    actor: Actor = None,
) -> DataKey:
    """One person's DEK from its `person_keys` row; a wrapped DEK that fails to unwrap
    is an integrity failure (recorded, then raised)."""
    try:
        return open_data_key(keys, key_id, person_id, wrapped)
    except IntegrityError:
        raise await integrity_failure(
            session,
            resource_type="person_key",
            resource_id=key_id,
            person_id=person_id,
            fields=("wrapped",),
            reason="wrapped_key_rejected",
            actor=actor,
        ) from None


async def _opened(
    session: AsyncSession,
    ctx: FieldContext,
    decrypt: Callable[[], _T],
    actor: Actor,
) -> _T:
    """Run `decrypt`; any mismatch is an integrity failure (recorded, then raised)."""
    try:
        return decrypt()
    except IntegrityError:
        raise await integrity_failure(
            session,
            resource_type=RESOURCE_TYPES.get(ctx.table, ctx.table),
            resource_id=ctx.row_id,
            person_id=ctx.person_id,
            fields=(ctx.column,),
            reason="ciphertext_rejected",
            actor=actor,
        ) from None


async def open_field(
    session: AsyncSession,
    data_key: DataKey,
    ciphertext: bytes,
    ctx: FieldContext,
    *,
    actor: Actor = None,
) -> Revealed:
    """Decrypt one text field written for `ctx`; any mismatch is an integrity failure."""
    return await _opened(session, ctx, lambda: data_key.decrypt_str(ciphertext, ctx), actor)


async def open_bytes(
    session: AsyncSession,
    data_key: DataKey,
    ciphertext: bytes,
    ctx: FieldContext,
    *,
    actor: Actor = None,
) -> bytes:
    """`open_field` for binary content (documents)."""
    return await _opened(session, ctx, lambda: data_key.decrypt(ciphertext, ctx), actor)


async def seal_text(
    session: AsyncSession,
    keys: KeyProvider,
    ctx: FieldContext,
    text: str,
    *,
    actor: Actor = None,
    erased_detail: str = "The person this text belongs to has been erased.",
) -> bytes:
    """Ciphertext of free text under the data key of `ctx.person_id`; 409 once that
    person is erased (there is no key left to write under)."""
    data_key = (await person_data_keys(session, keys, [ctx.person_id], actor=actor)).get(
        ctx.person_id
    )
    if data_key is None:
        raise Conflict(erased_detail)
    return data_key.encrypt(text, ctx)


async def open_text(
    session: AsyncSession,
    keys: KeyProvider,
    ctx: FieldContext,
    ciphertext: bytes | None,
    *,
    actor: Actor = None,
) -> str | None:
    """The text; `[erased]` once the person's key is gone; None when there was none."""
    if ciphertext is None:
        return None
    data_key = (await person_data_keys(session, keys, [ctx.person_id], actor=actor)).get(
        ctx.person_id
    )
    if data_key is None:
        return ERASED
    return await open_field(session, data_key, ciphertext, ctx, actor=actor)
