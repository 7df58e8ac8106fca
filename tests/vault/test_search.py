"""Search through blind indexes, then exact comparison of decrypted values."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import ValidationFailed
from app.models import PersonBlindIndex
from app.security.blind_index import PERSONS, BlindIndexer, IndexDefinition, IndexRegistry
from app.security.keyring import KeyProvider
from app.services import persons as service
from app.services import persons_search
from app.services.persons_search import PersonMatch, find_matches, search_persons
from tests.vault.conftest import made_up

DOB = date(1996, 11, 3)


async def test_finds_by_each_index_whatever_the_spelling(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    person = await service.create_person(
        session,
        keys,
        indexer,
        "victim",
        made_up(
            full_name="Nguyễn Thị Hoà",
            date_of_birth=DOB,
            national_id="038303012345",
            phone="0912345678",
        ),
    )
    other = await service.create_person(session, keys, indexer, "victim", made_up())
    await session.commit()
    expected = [person.id]
    for national_id in ("038303012345", " 038 303 012 345 ", "038-303-012.345"):
        assert await search_persons(session, keys, indexer, national_id=national_id) == expected
    for phone in ("0912345678", "+84 91 234 5678", "84912345678", "(+84) 912-345-678"):
        assert await search_persons(session, keys, indexer, phone=phone) == expected
    for name in (
        "Nguyễn Thị Hoà",
        "NGUYỄN  THỊ HÒA",
        "nguyen thi hoa",
        unicodedata.normalize("NFD", "Nguyễn Thị Hoà"),
    ):
        found = await search_persons(session, keys, indexer, full_name=name, date_of_birth=DOB)
        assert found == expected
    assert (
        await search_persons(
            session, keys, indexer, full_name="Nguyễn Thị Hoà", date_of_birth=date(1996, 11, 4)
        )
        == []
    )
    assert await search_persons(session, keys, indexer, national_id="038303012346") == []
    assert other.id not in await search_persons(session, keys, indexer, phone="0912345678")


async def test_exactly_one_criterion(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    for query in (
        {},
        {"full_name": "Nguyễn Văn An"},  # a name alone is not searchable
        {"date_of_birth": DOB},  # nor a birth date alone
        {"national_id": "038303012345", "phone": "0912345678"},
    ):
        with pytest.raises(ValidationFailed):
            await search_persons(session, keys, indexer, **query)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as caught:
        await search_persons(session, keys, indexer, phone="12?canary")
    assert "canary" not in repr(caught.value.extra)


async def test_kind_filter_and_duplicates(
    session: AsyncSession, keys: KeyProvider, indexer: BlindIndexer
) -> None:
    first = made_up(full_name="Lò Thị Sa", date_of_birth=DOB)
    victim = await service.create_person(session, keys, indexer, "victim", first)
    caller = await service.create_person(
        session, keys, indexer, "hotline_caller", made_up(phone=first.phone)
    )
    found = await search_persons(session, keys, indexer, phone=first.phone, kinds=["victim"])
    assert found == [victim.id]
    assert set(await search_persons(session, keys, indexer, phone=first.phone)) == {
        victim.id,
        caller.id,
    }
    arriving = made_up(full_name="LO THI SA", date_of_birth=DOB, national_id=first.national_id)
    matches = await find_matches(session, keys, indexer, arriving, kinds=["victim", "minor"])
    assert matches == [PersonMatch(victim.id, "national_id")]
    by_name = made_up(full_name="lo thi sa", date_of_birth=DOB)
    assert await find_matches(session, keys, indexer, by_name) == [
        PersonMatch(victim.id, "name_and_birth_date")
    ]
    assert await find_matches(session, keys, indexer, by_name, exclude=[victim.id]) == []


async def test_duplicates_are_looked_up_in_one_statement(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Intake's duplicate check asks all three indexes with one statement (it was one
    round trip per index), and still names a person found twice by the first index."""
    fields = made_up(full_name="Lò Văn Minh", date_of_birth=DOB)
    victim = await service.create_person(session, keys, indexer, "victim", fields)
    asked: list[list[str]] = []
    fetch = persons_search._CANDIDATES.fetch

    def counted(session: AsyncSession, params: dict[str, Any]) -> Any:
        asked.append(sorted(params["index_names"]))
        return fetch(session, params)

    monkeypatch.setattr(persons_search._CANDIDATES, "fetch", counted)
    arriving = made_up(
        full_name="LO VAN MINH",
        date_of_birth=DOB,
        national_id=fields.national_id,
        phone=fields.phone,
    )
    assert await find_matches(session, keys, indexer, arriving) == [
        PersonMatch(victim.id, "national_id")
    ]
    assert asked == [["name_dob", "national_id", "phone"]]


async def test_forced_tiny_index_filters_false_positives(
    session: AsyncSession, keys: KeyProvider
) -> None:
    """With 1-bit indexes about half of all persons share each index value; the search
    must still return exactly the person asked for."""
    tiny = BlindIndexer(
        keys.index_root_key(),
        IndexRegistry(
            [
                IndexDefinition(PERSONS, "national_id", ("national_id",), bits=1),
                IndexDefinition(PERSONS, "phone", ("phone",), bits=1),
                IndexDefinition(PERSONS, "name_dob", ("full_name", "date_of_birth"), bits=1),
            ]
        ),
    )
    people = []
    for _ in range(24):
        fields = made_up()
        person = await service.create_person(session, keys, tiny, "victim", fields)
        people.append((person.id, fields))
    await session.commit()

    for person_id, fields in people:
        value = tiny.compute(PERSONS, "national_id", fields.national_id)
        sharing = (
            await session.execute(
                select(func.count()).where(
                    col(PersonBlindIndex.index_name) == "national_id",
                    col(PersonBlindIndex.value) == value,
                )
            )
        ).scalar_one()
        assert sharing > 1  # the index alone cannot tell them apart
        assert await search_persons(session, keys, tiny, national_id=fields.national_id) == [
            person_id
        ]
        assert await search_persons(session, keys, tiny, phone=fields.phone) == [person_id]
        assert await find_matches(session, keys, tiny, fields) == [
            PersonMatch(person_id, "national_id")
        ]
        assert await search_persons(
            session, keys, tiny, full_name=fields.full_name, date_of_birth=fields.date_of_birth
        ) == [person_id]
    # A value nobody has still hits a bucket full of candidates, and finds nobody.
    assert await search_persons(session, keys, tiny, national_id="999999999999") == []
