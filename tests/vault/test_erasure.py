"""Erasure by crypto-shredding: no key, no index rows, no readable trace, the case
skeleton kept; and the system administrator's endpoint for it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import Conflict, Gone, NotFound
from app.models import Person, PersonBlindIndex, PersonDocument, PersonKey
from app.security.blind_index import BlindIndexer
from app.security.crypto import FieldContext
from app.security.keyring import KeyProvider
from app.security.masking import ERASED
from app.security.permissions import Role
from app.services import documents
from app.services import persons as service
from app.services.persons import ENCRYPTED_COLUMNS
from app.services.persons_search import find_matches, search_persons
from app.services.vault import person_data_keys
from tests.conftest import World, assert_problem
from tests.vault.conftest import audit_events, made_up, system_admin
from tests.vault.images import png

LEGAL_BASIS = "Điều 16 Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15; Quyết định 12/QĐ-SYT"


async def _count(session: AsyncSession, model: type, person_id: uuid.UUID) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).select_from(model).where(col(model.person_id) == person_id)  # type: ignore[attr-defined]
            )
        ).scalar_one()
    )


async def test_erasure_leaves_no_readable_trace(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    admin = await system_admin(session)
    fields = made_up(sex="female", nationality="VN")
    person = await service.create_person(session, keys, indexer, "victim", fields)
    keep = await service.create_person(session, keys, indexer, "victim", made_up())
    document = await documents.put_document(session, keys, person.id, "image/png", png())
    # A field of another table under the same DEK (a case statement, later).
    data_key = (await person_data_keys(session, keys, [person.id]))[person.id]
    statement_ctx = FieldContext("evidence", "description", uuid.uuid4(), person.id)
    statement = data_key.encrypt("lời khai", statement_ctx)
    await session.commit()

    erased = await service.erase_person(
        session,
        person.id,
        principal=admin,
        legal_basis=LEGAL_BASIS,
        reason_code="data_subject_request",
    )
    await session.commit()
    assert erased.erased_at is not None and erased.erased_by == admin.actor_id

    # No key row, no index rows, no ciphertext, no document bytes.
    assert await _count(session, PersonKey, person.id) == 0
    assert await _count(session, PersonBlindIndex, person.id) == 0
    row = (
        (await session.execute(text("SELECT * FROM persons WHERE id = :id"), {"id": person.id}))
        .mappings()
        .one()
    )
    assert all(row[c] is None for c in ENCRYPTED_COLUMNS)
    stored = await session.get(PersonDocument, document.id)
    assert stored is not None and stored.ciphertext is None
    # The skeleton stays for statistics.
    assert row["kind"] == "victim" and row["sex"] == "female" and row["nationality"] == "VN"
    assert row["birth_year"] == fields.date_of_birth.year  # type: ignore[union-attr]
    assert row["erasure_legal_basis"] == LEGAL_BASIS

    for reveal in (True, False):
        view = await service.read_person(session, keys, person.id, reveal=reveal)
        assert view.erased and not view.revealed
        assert all(v == ERASED for v in view.identity().values())
        assert view.sex == "female"
    assert await search_persons(session, keys, indexer, national_id=fields.national_id) == []
    assert await search_persons(session, keys, indexer, phone=fields.phone) == []
    assert await find_matches(session, keys, indexer, fields) == []
    with pytest.raises(Gone):
        await documents.get_document(session, keys, document.id)
    # Data of any other table sealed with the DEK has no key left to open it.
    assert await person_data_keys(session, keys, [person.id]) == {}
    assert statement  # the ciphertext may survive elsewhere; it opens nothing
    # The other person is untouched.
    other = await service.read_person(session, keys, keep.id, reveal=True)
    assert not other.erased and other.full_name

    events = await audit_events(session, "person.erase")
    assert len(events) == 1
    assert events[0].person_id == person.id and events[0].actor_id == admin.actor_id
    assert events[0].reason == "data_subject_request"
    assert set(events[0].fields) == set(ENCRYPTED_COLUMNS)

    with pytest.raises(Conflict):
        await service.erase_person(session, person.id, principal=admin, legal_basis=LEGAL_BASIS)
    with pytest.raises(NotFound):
        await service.erase_person(session, uuid.uuid4(), principal=admin, legal_basis=LEGAL_BASIS)


async def test_database_refuses_an_erased_row_with_ciphertext(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    from sqlalchemy.exc import IntegrityError

    person = await service.create_person(session, keys, indexer, "victim", made_up())
    await session.commit()
    with pytest.raises(IntegrityError):
        await session.execute(
            text("UPDATE persons SET erased_at = now(), erasure_legal_basis = 'x' WHERE id = :id"),
            {"id": person.id},
        )
    await session.rollback()


def _url(person_id: uuid.UUID | str) -> str:
    return f"/api/v1/persons/{person_id}/erasure"


class TestErasePersonEndpoint:
    async def _person(self, world: World, keys: KeyProvider, indexer: BlindIndexer) -> Person:
        person = await service.create_person(world.session, keys, indexer, "victim", made_up())
        await world.session.commit()
        return person

    async def test_anonymous_401(
        self, world: World, keys: KeyProvider, indexer: BlindIndexer
    ) -> None:
        person = await self._person(world, keys, indexer)
        response = await world.client.post(_url(person.id), json={"legal_basis": LEGAL_BASIS})
        assert_problem(response, 401)

    async def test_other_roles_get_404(
        self, world: World, keys: KeyProvider, indexer: BlindIndexer
    ) -> None:
        person = await self._person(world, keys, indexer)
        for role in (Role.CASE_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.AUDITOR):
            actor = await world.user(role)
            response = await world.client.post(
                _url(person.id), json={"legal_basis": LEGAL_BASIS}, headers=actor.headers
            )
            assert_problem(response, 404)
        view = await service.read_person(world.session, keys, person.id, reveal=False)
        assert not view.erased

    async def test_unknown_person_404(self, world: World) -> None:
        admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        response = await world.client.post(
            _url(uuid.uuid4()), json={"legal_basis": LEGAL_BASIS}, headers=admin.headers
        )
        assert_problem(response, 404)

    async def test_legal_basis_is_required_and_checked(
        self, world: World, keys: KeyProvider, indexer: BlindIndexer
    ) -> None:
        person = await self._person(world, keys, indexer)
        admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        for body in (
            {},
            {"reason_code": "court_order"},
            {"legal_basis": "short"},
            {"legal_basis": "x" * 501},
            {"legal_basis": "Yêu cầu của chủ thể CCCD 038303012345"},
            {"legal_basis": LEGAL_BASIS, "reason_code": "because"},
            {"legal_basis": LEGAL_BASIS, "full_name": "extra"},
        ):
            response = await world.client.post(_url(person.id), json=body, headers=admin.headers)
            problem = assert_problem(response, 422)
            assert "038303012345" not in response.text, problem
        view = await service.read_person(world.session, keys, person.id, reveal=False)
        assert not view.erased

    async def test_system_admin_erases_once(
        self, world: World, keys: KeyProvider, indexer: BlindIndexer
    ) -> None:
        person = await self._person(world, keys, indexer)
        admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        body = {"legal_basis": LEGAL_BASIS, "reason_code": "consent_withdrawn"}
        response = await world.client.post(_url(person.id), json=body, headers=admin.headers)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["person_id"] == str(person.id)
        assert answer["reason_code"] == "consent_withdrawn" and answer["erased_at"]
        view = await service.read_person(world.session, keys, person.id, reveal=True)
        assert view.erased
        events = await audit_events(world.session, "person.erase")
        assert [e.actor_id for e in events] == [admin.id]
        assert events[0].request_id == response.headers["x-request-id"]

        again = await world.client.post(_url(person.id), json=body, headers=admin.headers)
        assert_problem(again, 409)
