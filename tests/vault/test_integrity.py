"""Ciphertext bound to its place: tampered, swapped between rows or columns, or under
another key, it fails closed, the failure is recorded, and the API answers a 500
problem+json whose audit record survives the failed request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import SessionDep
from app.errors import DataIntegrityFailure
from app.main import create_app
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.services import persons as service
from app.services.persons_search import search_persons
from tests.conftest import assert_problem
from tests.vault.conftest import audit_events, made_up

SWAP_NAME = (
    "UPDATE persons SET full_name = (SELECT full_name FROM persons WHERE id = :a) WHERE id = :b"
)


async def _two(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> tuple[uuid.UUID, uuid.UUID]:
    a = await service.create_person(session, keys, indexer, "victim", made_up())
    b = await service.create_person(session, keys, indexer, "victim", made_up())
    await session.commit()
    return a.id, b.id


async def _expect_failure(
    session: AsyncSession, keys: KeyProvider, person_id: uuid.UUID, field: str
) -> None:
    with pytest.raises(DataIntegrityFailure) as caught:
        await service.read_person(session, keys, person_id, reveal=True)
    assert caught.value.status == 500 and caught.value.keep_work
    events = await audit_events(session, "integrity.error")
    assert events, "the failure must be recorded"
    event = events[-1]
    assert event.outcome == "error" and event.person_id == person_id
    assert event.fields == [field]
    await session.rollback()


async def test_untouched_rows_decrypt(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, b = await _two(session, keys, indexer)
    for person_id in (a, b):
        await service.read_person(session, keys, person_id, reveal=True)


async def test_tampered_ciphertext_fails(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, _ = await _two(session, keys, indexer)
    # Flip one bit of the sealed text (past header and nonce).
    await session.execute(
        text(
            "UPDATE persons SET full_name = set_byte(full_name, 30, get_byte(full_name, 30) # 1) "
            "WHERE id = :id"
        ),
        {"id": a},
    )
    await session.commit()
    await _expect_failure(session, keys, a, "full_name")


async def test_truncated_ciphertext_fails(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, _ = await _two(session, keys, indexer)
    await session.execute(
        text("UPDATE persons SET phone = substring(phone from 1 for 20) WHERE id = :id"), {"id": a}
    )
    await session.commit()
    await _expect_failure(session, keys, a, "phone")


async def test_ciphertext_swapped_between_rows_fails(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, b = await _two(session, keys, indexer)
    await session.execute(
        text(SWAP_NAME),
        {"a": a, "b": b},
    )
    await session.commit()
    await _expect_failure(session, keys, b, "full_name")


async def test_ciphertext_swapped_between_columns_fails(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, _ = await _two(session, keys, indexer)
    await session.execute(text("UPDATE persons SET national_id = phone WHERE id = :id"), {"id": a})
    await session.commit()
    await _expect_failure(session, keys, a, "national_id")


async def test_wrong_key_id_fails(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, b = await _two(session, keys, indexer)
    # Rewrite the header of a's ciphertext to name b's data key.
    await session.execute(
        text(
            "UPDATE persons SET address = overlay(address placing "
            "(SELECT uuid_send(key_id) FROM person_keys WHERE person_id = :b) from 2 for 16) "
            "WHERE id = :a"
        ),
        {"a": a, "b": b},
    )
    await session.commit()
    await _expect_failure(session, keys, a, "address")


async def test_wrapped_key_moved_to_another_person_fails(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, b = await _two(session, keys, indexer)
    await session.execute(
        text(
            "UPDATE person_keys SET wrapped = "
            "(SELECT wrapped FROM person_keys WHERE person_id = :a) WHERE person_id = :b"
        ),
        {"a": a, "b": b},
    )
    await session.commit()
    await _expect_failure(session, keys, b, "wrapped")


async def test_missing_key_of_a_live_person_fails(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, _ = await _two(session, keys, indexer)
    await session.execute(text("DELETE FROM person_keys WHERE person_id = :a"), {"a": a})
    await session.commit()
    await _expect_failure(session, keys, a, "data_key")


async def test_search_does_not_hide_tampering(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, b = await _two(session, keys, indexer)
    view = await service.read_person(session, keys, a, reveal=True)
    await session.execute(
        text(
            "UPDATE persons SET national_id = "
            "(SELECT national_id FROM persons WHERE id = :a) WHERE id = :b"
        ),
        {"a": a, "b": b},
    )
    # b now carries a's national-ID ciphertext but not its index row: search finds a only.
    await session.commit()
    assert await search_persons(session, keys, indexer, national_id=view.national_id) == [a]
    await session.execute(
        text(
            "UPDATE persons SET national_id = "
            "(SELECT national_id FROM persons WHERE id = :b) WHERE id = :a"
        ),
        {"a": a, "b": b},
    )
    await session.execute(
        text("UPDATE persons SET national_id = set_byte(national_id, 40, 0) WHERE id = :a"),
        {"a": a},
    )
    await session.commit()
    with pytest.raises(DataIntegrityFailure):
        await search_persons(session, keys, indexer, national_id=view.national_id)


@pytest.fixture
async def probe_app(settings: Settings, clean_db: None) -> AsyncIterator[FastAPI]:
    """The real app plus one test route that reads a person the way a service does."""
    application = create_app(settings)

    @application.get("/test/persons/{person_id}")
    async def read(request: Request, session: SessionDep, person_id: uuid.UUID) -> dict[str, str]:
        view = await service.read_person(session, request.app.state.keys, person_id, reveal=False)
        return {"id": str(view.id)}

    async with application.router.lifespan_context(application):
        yield application


async def test_api_answers_problem_500_and_keeps_the_audit_record(
    probe_app: FastAPI, session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a, b = await _two(session, keys, indexer)
    await session.execute(
        text(SWAP_NAME),
        {"a": a, "b": b},
    )
    await session.commit()
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ok = await client.get(f"/test/persons/{a}")
        assert ok.status_code == 200, ok.text
        response = await client.get(f"/test/persons/{b}", headers={"Accept-Language": "en"})
    body = assert_problem(response, 500)
    assert body["type"] == "https://vcm.gov.vn/problems/integrity-error"
    assert "integrity" in str(body["title"]).lower()
    assert "full_name" not in response.text and "cipher" not in response.text
    events = await audit_events(session, "integrity.error")
    assert len(events) == 1, "the record commits although the request failed"
    assert events[0].resource_id == str(b) and events[0].request_id == body.get("request_id")
