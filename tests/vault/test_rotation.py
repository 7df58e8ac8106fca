"""KEK rotation while requests run: nothing lost, nothing left under the old version."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from app.models import PersonKey
from app.security.blind_index import BlindIndexer
from app.security.keyring import FileKeyProvider, generate_keyring, rotate_kek
from app.services import persons as service
from app.services.key_rotation import kek_version_counts, rewrap_all
from app.services.persons_search import search_persons
from tests.vault.conftest import audit_events, made_up

WORKERS = 6


@pytest.fixture
def keyring_path(tmp_path: Path) -> Path:
    path = tmp_path / "keyring.json"
    generate_keyring(path, dev=True)
    return path


async def test_rotation_under_concurrent_requests_loses_nothing(
    engine: AsyncEngine, session: AsyncSession, keyring_path: Path
) -> None:
    from app.db import make_sessionmaker

    # Two providers on one file: the API workers' and the rotating CLI's.
    api_keys = FileKeyProvider(keyring_path)
    cli_keys = FileKeyProvider(keyring_path)
    indexer = BlindIndexer(api_keys.index_root_key())
    sessions = make_sessionmaker(engine)
    names: dict[uuid.UUID, str] = {}

    async def create_one() -> None:
        fields = made_up()
        async with sessions() as s:
            person = await service.create_person(s, api_keys, indexer, "victim", fields)
            await s.commit()
        names[person.id] = str(fields.full_name)

    for _ in range(240):
        await create_one()
    rotation_done = asyncio.Event()
    created_during = 0
    reads = 0

    async def worker() -> None:
        nonlocal created_during, reads
        while not rotation_done.is_set():
            await create_one()
            created_during += 1
            person_id = random.choice(list(names))
            async with sessions() as s:
                view = await service.read_person(s, api_keys, person_id, reveal=True)
                assert view.full_name == " ".join(names[person_id].split())
                reads += 1
            await asyncio.sleep(0)
        for _ in range(3):  # and a few after the rotation
            await create_one()

    async def rotate() -> int:
        await asyncio.sleep(0.05)  # let the workers get going
        version = rotate_kek(keyring_path)
        report = await rewrap_all(sessions, cli_keys, batch_size=25)
        rotation_done.set()
        assert report.failed == []
        assert report.rewrapped >= 240
        return version

    results = await asyncio.gather(rotate(), *(worker() for _ in range(WORKERS)))
    new_version = results[0]
    assert new_version == 2 and created_during > 0 and reads > 0

    counts = await kek_version_counts(session)
    assert set(counts) == {2}, counts  # no DEK is wrapped by version 1 any more
    assert counts[2] == len(names)
    views = await service.read_persons(session, api_keys, list(names), reveal=True)
    assert len(views) == len(names)
    for person_id, view in views.items():
        assert view.full_name == " ".join(names[person_id].split())
    sample = random.choice(list(names))
    view = views[sample]
    assert await search_persons(session, api_keys, indexer, phone=view.phone) == [sample]
    assert [e.resource_id for e in await audit_events(session, "keys.rotate")] == ["kek-v2"]


async def test_rewrap_skips_nothing_when_rows_are_locked(
    engine: AsyncEngine, session: AsyncSession, keyring_path: Path
) -> None:
    """A key row locked by a request (an erasure in progress) is waited for, not skipped."""
    from app.db import make_sessionmaker

    keys = FileKeyProvider(keyring_path)
    indexer = BlindIndexer(keys.index_root_key())
    sessions = make_sessionmaker(engine)
    person = await service.create_person(session, keys, indexer, "victim", made_up())
    for _ in range(5):
        await service.create_person(session, keys, indexer, "victim", made_up())
    await session.commit()
    rotate_kek(keyring_path)

    async with sessions() as holder:
        await holder.execute(
            select(PersonKey).where(col(PersonKey.person_id) == person.id).with_for_update()
        )
        task = asyncio.create_task(rewrap_all(sessions, keys, batch_size=2))
        await asyncio.sleep(0.5)
        assert not task.done()  # the locked row keeps the rotation going
        await holder.commit()
    report = await asyncio.wait_for(task, timeout=10)
    assert report.rewrapped == 6
    old = (
        await session.execute(
            select(func.count()).where(col(PersonKey.kek_version) < keys.current_kek_version())
        )
    ).scalar_one()
    assert old == 0


async def test_rewrap_reports_a_tampered_key_and_goes_on(
    engine: AsyncEngine, session: AsyncSession, keyring_path: Path
) -> None:
    from sqlalchemy import text

    from app.db import make_sessionmaker

    keys = FileKeyProvider(keyring_path)
    indexer = BlindIndexer(keys.index_root_key())
    people = [
        await service.create_person(session, keys, indexer, "victim", made_up()) for _ in range(4)
    ]
    await session.execute(
        text(
            "UPDATE person_keys SET wrapped = set_byte(wrapped, 20, get_byte(wrapped, 20) # 1) "
            "WHERE person_id = :id"
        ),
        {"id": people[0].id},
    )
    await session.commit()
    rotate_kek(keyring_path)
    report = await rewrap_all(make_sessionmaker(engine), keys, batch_size=10)
    assert report.rewrapped == 3 and len(report.failed) == 1
    assert await kek_version_counts(session) == {1: 1, 2: 3}
    stamped = await session.execute(
        select(col(PersonKey.kek_version), col(PersonKey.rewrapped_at).is_not(None))
    )
    assert sorted(stamped.all()) == [(1, False), (2, True), (2, True), (2, True)]
    failures = await audit_events(session, "integrity.error")
    assert [e.person_id for e in failures] == [people[0].id]
    rotations = await audit_events(session, "keys.rotate")
    assert rotations[0].outcome == "error"


async def test_rotation_waits_for_a_create_in_flight(
    engine: AsyncEngine, session: AsyncSession, keyring_path: Path
) -> None:
    """A request that wrapped its new DEK under the old version just before the
    rotation, and commits after the rewrap pass would have ended, is not left behind:
    the rotation barrier holds the rewrap until that transaction ends."""
    from app.db import make_sessionmaker

    keys = FileKeyProvider(keyring_path)
    indexer = BlindIndexer(keys.index_root_key())
    sessions = make_sessionmaker(engine)
    for _ in range(3):
        await service.create_person(session, keys, indexer, "victim", made_up())
    await session.commit()

    async with sessions() as slow:
        late = await service.create_person(slow, keys, indexer, "victim", made_up())
        rotate_kek(keyring_path)
        rotation = asyncio.create_task(rewrap_all(sessions, FileKeyProvider(keyring_path)))
        await asyncio.sleep(0.5)
        assert not rotation.done()
        await slow.commit()
    report = await asyncio.wait_for(rotation, timeout=10)
    assert report.rewrapped == 4
    assert await kek_version_counts(session) == {2: 4}
    view = await service.read_person(session, keys, late.id, reveal=True)
    assert view.full_name
