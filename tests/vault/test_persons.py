"""Persons: round trip, canonical storage, masking, validation, updates, masked reprs."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import Gone, NotFound, PreconditionFailed, ValidationFailed
from app.models import Person, PersonBlindIndex, PersonKey
from app.security.blind_index import BlindIndexer
from app.security.crypto import Revealed, parse_key_id
from app.security.keyring import KeyProvider
from app.services import persons as service
from app.services.persons import PersonFields
from app.services.persons_search import search_persons
from tests.vault.conftest import made_up

NAME = "Nguyễn Thị Mai Phương"


async def test_round_trip_reveals_canonical_values(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    fields = made_up(
        full_name="  nguyễn   Thị Mai\u200b Phương ",
        national_id="038 303-012.345",
        phone="(+84) 912 345 678",
        date_of_birth=date(2003, 7, 19),
    )
    person = await service.create_person(session, keys, indexer, "victim", fields)
    await session.commit()

    view = await service.read_person(session, keys, person.id, reveal=True)
    assert view.revealed and not view.erased
    assert view.full_name == "nguyễn Thị Mai Phương"
    assert view.national_id == "038303012345"
    assert view.phone == "+84912345678"
    assert view.date_of_birth == "2003-07-19"
    assert view.address == fields.address
    assert isinstance(view.full_name, Revealed)
    assert view.birth_year == 2003 and view.sex == fields.sex and view.nationality == "VN"
    assert "Phương" not in repr(view) and "0383" not in repr(view)


async def test_masked_read_shows_only_masked_forms(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    fields = made_up(
        full_name="Nguyễn Văn An", national_id="001099012345", date_of_birth=date(1998, 1, 2)
    )
    person = await service.create_person(session, keys, indexer, "victim", fields)
    view = await service.read_person(session, keys, person.id, reveal=False)
    assert not view.revealed
    assert view.full_name == "Ng*** V** A*"
    assert view.national_id == "****2345"
    assert view.date_of_birth == "1998"
    assert view.address == "***"
    assert view.ethnicity == "***"


async def test_database_holds_ciphertext_under_the_persons_own_key(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a = await service.create_person(session, keys, indexer, "victim", made_up(full_name=NAME))
    b = await service.create_person(session, keys, indexer, "relative", made_up(full_name=NAME))
    await session.commit()
    rows = (await session.execute(text("SELECT id, full_name, phone FROM persons"))).all()
    for _, full_name, phone in rows:
        assert NAME.encode() not in full_name
        assert full_name[0] == 0x01 and phone[0] == 0x01
    key_rows = {k.person_id: k for k in (await session.execute(select(PersonKey))).scalars().all()}
    assert set(key_rows) == {a.id, b.id}
    assert key_rows[a.id].key_id != key_rows[b.id].key_id
    assert all(k.kek_version == keys.current_kek_version() for k in key_rows.values())
    assert parse_key_id(a.full_name or b"") == key_rows[a.id].key_id
    # Same plaintext, different ciphertext (own DEK, fresh nonce).
    assert a.full_name != b.full_name
    names = {
        r.index_name
        for r in (
            await session.execute(
                select(PersonBlindIndex).where(col(PersonBlindIndex.person_id) == a.id)
            )
        ).scalars()
    }
    assert names == {"national_id", "phone", "name_dob"}


async def test_only_given_fields_are_stored_and_indexed(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    # Many victims arrive with no papers: a name, sex and nationality only.
    person = await service.create_person(
        session,
        keys,
        indexer,
        "victim",
        PersonFields(full_name=NAME, sex="female", nationality="la"),
    )
    view = await service.read_person(session, keys, person.id, reveal=True)
    assert view.full_name == NAME and view.national_id is None and view.phone is None
    assert view.nationality == "LA" and view.birth_year is None
    masked = await service.read_person(session, keys, person.id, reveal=False)
    assert masked.national_id is None and masked.date_of_birth is None
    indexes = (
        await session.execute(
            select(PersonBlindIndex).where(col(PersonBlindIndex.person_id) == person.id)
        )
    ).all()
    assert indexes == []  # no name-only index: a name alone is not searchable


async def test_validation_names_fields_never_values(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    canary = "ZX81?CANARY"
    bad = PersonFields(
        full_name="   ",
        national_id=canary,
        phone=canary,
        date_of_birth=date(2999, 1, 1),
        sex=canary,
        nationality=canary,
        hometown_province_code="99",
    )
    with pytest.raises(ValidationFailed) as caught:
        await service.create_person(session, keys, indexer, "victim", bad)
    errors = caught.value.extra["errors"]
    assert {e["field"] for e in errors} == {
        "full_name",
        "national_id",
        "phone",
        "date_of_birth",
        "sex",
        "nationality",
        "hometown_province_code",
    }
    assert canary not in repr(errors) and canary not in str(caught.value)
    with pytest.raises(ValidationFailed):
        await service.create_person(session, keys, indexer, "trafficker", made_up())
    with pytest.raises(ValidationFailed) as caught:
        await service.create_person(
            session,
            keys,
            indexer,
            "victim",
            made_up(date_of_birth=date(2001, 5, 5), birth_year=2002),
        )
    assert caught.value.extra["errors"][0]["field"] == "birth_year"


async def test_update_reencrypts_and_reindexes(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    old_phone, new_phone = "0912000111", "0987000222"
    person = await service.create_person(session, keys, indexer, "victim", made_up(phone=old_phone))
    await session.commit()
    old_ciphertext = person.phone
    updated = await service.update_person(
        session,
        keys,
        indexer,
        person.id,
        PersonFields(phone=new_phone),
        clear=("address",),
        expected_version=1,
    )
    await session.commit()
    assert updated.version == 2 and updated.phone != old_ciphertext
    view = await service.read_person(session, keys, person.id, reveal=True)
    assert view.phone == "+84987000222" and view.address is None
    assert await search_persons(session, keys, indexer, phone=old_phone) == []
    assert await search_persons(session, keys, indexer, phone=new_phone) == [person.id]
    # The other indexes were recomputed from the decrypted values, not lost.
    assert await search_persons(session, keys, indexer, national_id=view.national_id) == [person.id]
    with pytest.raises(PreconditionFailed):
        await service.update_person(
            session, keys, indexer, person.id, PersonFields(address="x"), expected_version=1
        )
    with pytest.raises(NotFound):
        await service.update_person(session, keys, indexer, uuid.uuid4(), PersonFields(address="x"))


async def test_from_patch_splits_set_and_clear() -> None:
    fields, clear = PersonFields.from_patch({"phone": "0912345678", "address": None})
    assert fields.phone == "0912345678" and clear == {"address"}
    with pytest.raises(ValueError, match="unknown"):
        PersonFields.from_patch({"password": "x"})


async def test_read_persons_in_bulk_skips_unknown_ids(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    a = await service.create_person(session, keys, indexer, "victim", made_up())
    b = await service.create_person(session, keys, indexer, "minor", made_up())
    views = await service.read_persons(session, keys, [a.id, b.id, uuid.uuid4()], reveal=False)
    assert set(views) == {a.id, b.id}
    with pytest.raises(NotFound):
        await service.read_person(session, keys, uuid.uuid4(), reveal=True)


async def test_reprs_never_show_values(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    fields = made_up(full_name=NAME, national_id="079123456789")
    person = await service.create_person(session, keys, indexer, "victim", fields)
    view = await service.read_person(session, keys, person.id, reveal=True)
    key = (await session.execute(select(PersonKey))).scalars().one()
    index = (await session.execute(select(PersonBlindIndex))).scalars().first()
    folded = unicodedata.normalize("NFD", NAME)
    for shown in (
        repr(person),
        str(person),
        repr(fields),
        repr(view),
        str(view),
        repr(key),
        repr(index),
    ):
        for secret in (NAME, folded, "Phương", "079123456789", "456789", repr(person.full_name)):
            assert secret not in shown, shown
    assert repr(view.full_name) == "'<redacted>'"
    assert repr(key.wrapped) not in repr(key)


async def test_erased_person_cannot_be_updated(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    from tests.vault.conftest import system_admin

    admin = await system_admin(session)
    person = await service.create_person(session, keys, indexer, "victim", made_up())
    await service.erase_person(
        session, person.id, principal=admin, legal_basis="Điều 16 Luật 91/2025/QH15"
    )
    with pytest.raises(Gone):
        await service.update_person(session, keys, indexer, person.id, PersonFields(address="x"))
    stored = await session.get(Person, person.id)
    assert stored is not None and stored.erased_at is not None
