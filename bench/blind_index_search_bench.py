"""Blind-index search latency with a million persons in the database.

Run: .venv/bin/python bench/blind_index_search_bench.py [--persons 1000000] [--known 300]

Uses DATABASE_URL's server if set (a scratch database `vcm_bench` is created on it
and dropped afterwards), else an embedded PostgreSQL in a temporary folder.

Seeding, fast: `--persons` minus `--known` filler persons are made by
`generate_series` in SQL, each with three index rows (national_id, phone, name_dob)
of random 20-bit values, the distribution real HMAC values have. The `--known`
persons are made-up people created through `create_person` (real DEKs, real
ciphertext, real index values). The index table is filled with its primary key and
foreign key dropped and rebuilt afterwards, as a bulk load would.

Measured: `search_persons` end to end, as a request runs it (session from the pool,
index lookup, fetch of the candidates, DEK unwrap and decryption, exact comparison),
once per index for each known person, plus misses. Filler persons have no key and
no ciphertext, so a filler row that shares the queried index value (about one per
query at a million rows with 20 bits) is fetched but not decrypted; a real false
candidate costs one DEK unwrap and one or two field decryptions more, about 10 µs
each (bench/crypto_bench.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from faker import Faker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import make_engine, make_sessionmaker
from app.security.blind_index import BlindIndexer
from app.security.keyring import FileKeyProvider, generate_keyring
from app.services.persons import PersonFields, create_person
from app.services.persons_search import search_persons
from bench.harness import scratch_database

BENCH_DB = "vcm_bench"
fake = Faker("vi_VN")

SEED_PERSONS = """
INSERT INTO persons (id, kind, sex, nationality, birth_year, version, created_at, updated_at)
SELECT gen_random_uuid(), 'victim', (ARRAY['female', 'male'])[1 + (g % 2)], 'VN',
       1950 + (g % 60), 1, now(), now()
FROM generate_series(1, :count) AS g
"""
# Bytes 0-2 of a version-4 UUID are random; keep 20 bits like a real index value.
SEED_INDEXES = """
INSERT INTO person_blind_indexes (index_name, value, person_id)
SELECT name, set_byte(r, 2, get_byte(r, 2) & 240), id
FROM (
    SELECT n.name, p.id, substring(uuid_send(gen_random_uuid()) FROM 1 FOR 3) AS r
    FROM persons p CROSS JOIN (VALUES ('national_id'), ('phone'), ('name_dob')) AS n(name)
) AS s
"""
DROP_CONSTRAINTS = [
    "ALTER TABLE person_blind_indexes DROP CONSTRAINT pk_person_blind_indexes",
    "ALTER TABLE person_blind_indexes DROP CONSTRAINT fk_person_blind_indexes_person_id_persons",
    "DROP INDEX ix_person_blind_indexes_person_id",
]
RESTORE_CONSTRAINTS = [
    "ALTER TABLE person_blind_indexes ADD CONSTRAINT pk_person_blind_indexes "
    "PRIMARY KEY (index_name, value, person_id)",
    "ALTER TABLE person_blind_indexes ADD CONSTRAINT "
    "fk_person_blind_indexes_person_id_persons FOREIGN KEY (person_id) "
    "REFERENCES persons (id) ON DELETE CASCADE",
    "CREATE INDEX ix_person_blind_indexes_person_id ON person_blind_indexes (person_id)",
]


def made_up(n: int) -> PersonFields:
    return PersonFields(
        full_name=fake.name(),
        date_of_birth=fake.date_of_birth(minimum_age=6, maximum_age=60),
        national_id=f"0{n % 96 + 1:02d}{n:09d}",
        phone=f"09{n:08d}",
        sex="female",
        nationality="VN",
    )


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    keys: FileKeyProvider,
    indexer: BlindIndexer,
    persons: int,
    known: int,
) -> list[tuple[uuid.UUID, PersonFields]]:
    started = time.perf_counter()
    async with sessions() as session:
        await session.execute(text("SET LOCAL synchronous_commit = off"))
        await session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for statement in DROP_CONSTRAINTS:
            await session.execute(text(statement))
        await session.execute(text(SEED_PERSONS), {"count": persons - known})
        await session.execute(text(SEED_INDEXES))
        for statement in RESTORE_CONSTRAINTS:
            await session.execute(text(statement))
        await session.commit()
    print(
        f"seeded {persons - known:,} filler persons and their index rows "
        f"in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    people = []
    async with sessions() as session:
        for n in range(known):
            fields = made_up(n)
            person = await create_person(session, keys, indexer, "victim", fields)
            people.append((person.id, fields))
        await session.commit()
    async with sessions() as session:
        await session.execute(text("ANALYZE persons"))
        await session.execute(text("ANALYZE person_blind_indexes"))
        await session.execute(text("ANALYZE person_keys"))
        await session.commit()
        rows = (await session.execute(text("SELECT count(*) FROM person_blind_indexes"))).scalar()
    print(
        f"created {known} known persons through the service in "
        f"{time.perf_counter() - started:.1f} s; {rows:,} index rows in all"
    )
    return people


async def timed(
    sessions: async_sessionmaker[AsyncSession], query: Callable[[AsyncSession], Awaitable[Any]]
) -> tuple[float, Any]:
    started = time.perf_counter()
    async with sessions() as session:
        result = await query(session)
        await session.commit()
    return (time.perf_counter() - started) * 1000, result


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    print(
        f"{label:<28} n={len(samples):>5}  p50 {pct(50):6.2f} ms  p95 {pct(95):6.2f} ms  "
        f"p99 {pct(99):6.2f} ms  mean {statistics.fmean(samples):6.2f} ms"
    )


async def run(url: str, persons: int, known: int, workdir: Path) -> None:
    keys = generate_keyring(workdir / "keyring.json", dev=True)
    indexer = BlindIndexer(keys.index_root_key())
    engine = make_engine(url, pool_size=4)
    sessions = make_sessionmaker(engine)
    try:
        people = await seed(sessions, keys, indexer, persons, known)
        for _, fields in people[:20]:  # warm the pool and the caches
            await timed(
                sessions,
                lambda s, f=fields: search_persons(s, keys, indexer, national_id=f.national_id),
            )
        samples: dict[str, list[float]] = {"national_id": [], "phone": [], "name_dob": []}
        for person_id, fields in people:
            queries: dict[str, dict[str, Any]] = {
                "national_id": {"national_id": fields.national_id},
                "phone": {"phone": fields.phone},
                "name_dob": {"full_name": fields.full_name, "date_of_birth": fields.date_of_birth},
            }
            for name, query in queries.items():
                ms, found = await timed(
                    sessions, lambda s, q=query: search_persons(s, keys, indexer, **q)
                )
                assert found == [person_id], "a search must return exactly its person"
                samples[name].append(ms)
        misses: list[float] = []
        for n in range(known):
            ms, found = await timed(
                sessions,
                lambda s, n=n: search_persons(
                    s, keys, indexer, full_name=fake.name(), date_of_birth=date(1901, 1, 1 + n % 28)
                ),
            )
            assert found == []
            misses.append(ms)
        async with sessions() as session:
            value = indexer.compute("persons", "national_id", people[0][1].national_id)
            plan = (
                (
                    await session.execute(
                        text(
                            "EXPLAIN (ANALYZE, BUFFERS) SELECT person_id FROM person_blind_indexes "
                            "WHERE index_name = 'national_id' AND value = :v"
                        ),
                        {"v": value},
                    )
                )
                .scalars()
                .all()
            )
            # Candidates a query meets: persons sharing the queried index value.
            candidates = (
                await session.execute(
                    text(
                        "SELECT avg(c) FROM (SELECT count(*) AS c FROM person_blind_indexes k "
                        "JOIN person_blind_indexes b ON b.index_name = k.index_name "
                        "AND b.value = k.value WHERE k.person_id = ANY(:known) "
                        "GROUP BY k.person_id, k.index_name) AS g"
                    ),
                    {"known": [p for p, _ in people]},
                )
            ).scalar()
        print(
            f"\nsearch_persons end to end, {persons:,} persons, 20-bit indexes "
            f"(mean {float(candidates or 0):.2f} candidates per hit):"
        )
        for name, values in samples.items():
            report(f"hit by {name}", values)
        report("hit, all indexes", [v for values in samples.values() for v in values])
        report("miss by name_dob", misses)
        print("\nindex lookup plan:")
        for line in plan:
            print("  " + line)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--known", type=int, default=300)
    args = parser.parse_args()
    with scratch_database(BENCH_DB) as url, tempfile.TemporaryDirectory() as keydir:
        asyncio.run(run(url, args.persons, args.known, Path(keydir)))


if __name__ == "__main__":
    main()
