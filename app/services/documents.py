"""Photos and scanned documents of persons: stripped of metadata, then encrypted.

Rules:
- At most `MAX_DOCUMENT_BYTES` (10 MiB) as uploaded (413 above), JPEG or PNG only
  (415 otherwise), and the content must be what the media type says (422).
- EXIF, XMP, IPTC, comments and PNG text chunks are removed before encryption
  (`app.services.image_metadata`); the stripped bytes are what is stored and served.
- The content is encrypted with the person's DEK, bound to ("person_documents",
  "content", document id, person id); erasing the person makes it unreadable, and
  erasure also deletes the stored bytes.
- Metadata rows live in `person_documents`; the encrypted bytes go through a
  `DocumentStore`. `PostgresDocumentStore` keeps them in the same row (bytea). An
  object-storage implementation keeps them under the document id and leaves the
  column NULL; it must make `put` durable before the transaction commits, and
  sweep objects whose row never committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from app.errors import Gone, NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from app.i18n import msg, text_of
from app.models.document import DOCUMENT_MEDIA_TYPES, PersonDocument
from app.models.person import Person
from app.security.crypto import FieldContext
from app.security.keyring import KeyProvider
from app.services.image_metadata import ImageFormatError, strip_metadata
from app.services.vault import Actor, open_bytes, person_data_keys

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "Document",
    "DocumentStore",
    "PostgresDocumentStore",
    "get_document",
    "list_documents",
    "put_document",
]

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
TABLE = "person_documents"
# Metadata queries must not drag 10 MiB of ciphertext along.
_WITHOUT_BYTES = defer(PersonDocument.ciphertext)  # type: ignore[arg-type]
COLUMN = "content"


@runtime_checkable
class DocumentStore(Protocol):
    """Where encrypted document bytes live, by document id. Only ciphertext passes
    through it; the row in `person_documents` is written by the service."""

    async def put(self, document_id: uuid.UUID, ciphertext: bytes) -> None: ...

    async def get(self, document_id: uuid.UUID) -> bytes | None: ...

    async def delete_for_person(self, person_id: uuid.UUID) -> None: ...


class PostgresDocumentStore:
    """Keeps the ciphertext in `person_documents.ciphertext`, in the caller's
    transaction (so a rolled-back upload leaves nothing behind)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(self, document_id: uuid.UUID, ciphertext: bytes) -> None:
        await self._session.execute(
            update(PersonDocument)
            .where(col(PersonDocument.id) == document_id)
            .values(ciphertext=ciphertext)
        )

    async def get(self, document_id: uuid.UUID) -> bytes | None:
        return (
            await self._session.execute(
                select(col(PersonDocument.ciphertext)).where(col(PersonDocument.id) == document_id)
            )
        ).scalar_one_or_none()

    async def delete_for_person(self, person_id: uuid.UUID) -> None:
        await self._session.execute(
            update(PersonDocument)
            .where(col(PersonDocument.person_id) == person_id)
            .values(ciphertext=None)
        )


@dataclass(frozen=True, repr=False)
class Document:
    """A decrypted document; its repr shows the type and size, never the bytes."""

    id: uuid.UUID
    person_id: uuid.UUID
    media_type: str
    content: bytes

    def __repr__(self) -> str:
        return f"Document(id={self.id}, media_type={self.media_type!r}, size={len(self.content)})"

    __str__ = __repr__


def document_context(document_id: uuid.UUID, person_id: uuid.UUID) -> FieldContext:
    return FieldContext(TABLE, COLUMN, document_id, person_id)


async def _live_person(session: AsyncSession, person_id: uuid.UUID) -> Person:
    person = await session.get(Person, person_id, populate_existing=True)
    if person is None:
        raise NotFound()
    if person.erased_at is not None:
        raise Gone("The person was erased.")
    return person


async def put_document(
    session: AsyncSession,
    keys: KeyProvider,
    person_id: uuid.UUID,
    media_type: str,
    content: bytes,
    *,
    store: DocumentStore | None = None,
    actor: Actor = None,
) -> PersonDocument:
    """Strip, encrypt and store a document of a live person; returns its row."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(
            msg("A document may be at most {bytes} bytes.", bytes=MAX_DOCUMENT_BYTES)
        )
    media_type = media_type.split(";")[0].strip().lower()
    if media_type not in DOCUMENT_MEDIA_TYPES:
        raise UnsupportedMediaType(
            msg("Documents must be one of: {types}.", types=", ".join(DOCUMENT_MEDIA_TYPES))
        )
    try:
        stripped = strip_metadata(media_type, content)
    except ImageFormatError as exc:
        raise ValidationFailed([{"field": "content", "message": text_of(exc)}]) from None
    await _live_person(session, person_id)
    data_key = (await person_data_keys(session, keys, [person_id], actor=actor)).get(person_id)
    if data_key is None:
        raise Gone("The person was erased.")
    document = PersonDocument(
        id=uuid.uuid4(), person_id=person_id, media_type=media_type, size=len(stripped)
    )
    session.add(document)
    await session.flush()
    ciphertext = data_key.encrypt(stripped, document_context(document.id, person_id))
    await (store or PostgresDocumentStore(session)).put(document.id, ciphertext)
    return document


async def get_document(
    session: AsyncSession,
    keys: KeyProvider,
    document_id: uuid.UUID,
    *,
    store: DocumentStore | None = None,
    actor: Actor = None,
) -> Document:
    """Decrypt a document: 404 if unknown, 410 once its person was erased, 500 (and an
    audit record) if the bytes fail authentication."""
    row = (
        await session.execute(
            select(PersonDocument)
            .options(_WITHOUT_BYTES)
            .where(col(PersonDocument.id) == document_id)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound()
    await _live_person(session, row.person_id)
    ciphertext = await (store or PostgresDocumentStore(session)).get(document_id)
    data_key = (await person_data_keys(session, keys, [row.person_id], actor=actor)).get(
        row.person_id
    )
    if ciphertext is None or data_key is None:
        raise Gone("The document is no longer available.")
    content = await open_bytes(
        session, data_key, ciphertext, document_context(document_id, row.person_id), actor=actor
    )
    return Document(id=row.id, person_id=row.person_id, media_type=row.media_type, content=content)


async def list_documents(session: AsyncSession, person_id: uuid.UUID) -> Sequence[PersonDocument]:
    """A person's document rows (metadata only), oldest first."""
    return (
        (
            await session.execute(
                select(PersonDocument)
                .options(_WITHOUT_BYTES)
                .where(col(PersonDocument.person_id) == person_id)
                .order_by(col(PersonDocument.created_at), col(PersonDocument.id))
            )
        )
        .scalars()
        .all()
    )
