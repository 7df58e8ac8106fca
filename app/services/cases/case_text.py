"""Free text about a case (reasons, notes, evidence descriptions, statements).

Text typed by a person may name people, so it is encrypted like an identity field,
under the case victim's data key with the row's own context: an erasure of the victim
shreds it along with the victim's identity.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.security.crypto import FieldContext
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services import vault


async def seal_text(
    session: AsyncSession,
    keys: KeyProvider,
    *,
    victim_person_id: uuid.UUID,
    table: str,
    column: str,
    row_id: uuid.UUID,
    text: str,
    actor: Principal | None = None,
) -> bytes:
    """Ciphertext of `text` for (table, column, row) under the victim's data key."""
    ctx = FieldContext(table=table, column=column, row_id=row_id, person_id=victim_person_id)
    return await vault.seal_text(
        session,
        keys,
        ctx,
        text,
        actor=actor,
        erased_detail="The case's victim has been erased; no new text can be recorded.",
    )


async def open_text(
    session: AsyncSession,
    keys: KeyProvider,
    *,
    victim_person_id: uuid.UUID,
    table: str,
    column: str,
    row_id: uuid.UUID,
    ciphertext: bytes | None,
    actor: Principal | None = None,
) -> str | None:
    """The text, `[erased]` once the victim's key is gone, None when there was none."""
    ctx = FieldContext(table=table, column=column, row_id=row_id, person_id=victim_person_id)
    return await vault.open_text(session, keys, ctx, ciphertext, actor=actor)
