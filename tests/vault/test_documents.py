"""Documents: metadata stripped before encryption, size and type limits, binding."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import (
    DataIntegrityFailure,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.services import documents
from app.services import persons as service
from app.services.documents import MAX_DOCUMENT_BYTES, DocumentStore, PostgresDocumentStore
from app.services.image_metadata import strip_jpeg, strip_png
from tests.vault.conftest import made_up
from tests.vault.images import CANARY, SCAN, jpeg, png


@pytest.fixture
async def person_id(session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer) -> uuid.UUID:
    person = await service.create_person(session, keys, indexer, "victim", made_up())
    await session.commit()
    return person.id


@pytest.mark.parametrize(
    ("media_type", "build", "strip"),
    [("image/jpeg", jpeg, strip_jpeg), ("image/png", png, strip_png)],
)
async def test_round_trip_strips_metadata(
    session: AsyncSession,
    keys: KeyProvider,
    person_id: uuid.UUID,
    media_type: str,
    build: object,
    strip: object,
) -> None:
    original = build()  # type: ignore[operator]
    assert CANARY in original
    row = await documents.put_document(session, keys, person_id, media_type, original)
    await session.commit()
    stored = (
        await session.execute(
            text("SELECT ciphertext FROM person_documents WHERE id = :id"), {"id": row.id}
        )
    ).scalar_one()
    assert CANARY not in stored and SCAN not in stored
    document = await documents.get_document(session, keys, row.id)
    assert document.media_type == media_type
    assert document.content == strip(original)  # type: ignore[operator]
    assert CANARY not in document.content
    assert row.size == len(document.content)
    assert "CANARY" not in repr(document) and "CANARY" not in repr(row)
    listed = await documents.list_documents(session, person_id)
    assert [d.id for d in listed] == [row.id]


async def test_size_limit_is_10_mib(
    session: AsyncSession, keys: KeyProvider, person_id: uuid.UUID
) -> None:
    too_big = jpeg()[:-2] + b"\x00" * (MAX_DOCUMENT_BYTES - len(jpeg()) + 1) + b"\xff\xd9"
    assert len(too_big) == MAX_DOCUMENT_BYTES + 1
    with pytest.raises(PayloadTooLarge) as caught:
        await documents.put_document(session, keys, person_id, "image/jpeg", too_big)
    assert caught.value.status == 413
    # Exactly at the limit is accepted (scan data padded to 10 MiB).
    at_limit = too_big[:-3] + b"\xff\xd9"
    assert len(at_limit) == MAX_DOCUMENT_BYTES
    row = await documents.put_document(session, keys, person_id, "image/jpeg", at_limit)
    assert row.size == len(strip_jpeg(at_limit))


async def test_type_and_content_are_checked(
    session: AsyncSession, keys: KeyProvider, person_id: uuid.UUID
) -> None:
    with pytest.raises(UnsupportedMediaType):
        await documents.put_document(session, keys, person_id, "application/pdf", b"%PDF-1.7")
    with pytest.raises(ValidationFailed) as caught:
        await documents.put_document(session, keys, person_id, "image/png", jpeg())
    assert caught.value.status == 422
    with pytest.raises(ValidationFailed):
        await documents.put_document(session, keys, person_id, "image/jpeg", jpeg()[:50])
    with pytest.raises(NotFound):
        await documents.put_document(session, keys, uuid.uuid4(), "image/png", png())
    # "image/png; charset=binary" is still PNG.
    assert await documents.put_document(session, keys, person_id, "IMAGE/PNG; x=y", png())


async def test_document_moved_to_another_row_fails(
    session: AsyncSession, keys: KeyProvider, person_id: uuid.UUID
) -> None:
    first = await documents.put_document(session, keys, person_id, "image/png", png())
    second = await documents.put_document(session, keys, person_id, "image/jpeg", jpeg())
    await session.commit()
    await session.execute(
        text(
            "UPDATE person_documents SET ciphertext = "
            "(SELECT ciphertext FROM person_documents WHERE id = :a) WHERE id = :b"
        ),
        {"a": first.id, "b": second.id},
    )
    await session.commit()
    with pytest.raises(DataIntegrityFailure):
        await documents.get_document(session, keys, second.id)


async def test_postgres_store_is_a_document_store(session: AsyncSession) -> None:
    assert isinstance(PostgresDocumentStore(session), DocumentStore)
