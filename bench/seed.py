"""Seed a benchmark database with cases whose victims are real encrypted persons.

    .venv/bin/python -m bench.seed --data-dir var-bench/100000 [--cases 100000]

Not through HTTP and not one ORM object at a time: worker processes make the rows
with the real crypto (a DEK per person wrapped by the key ring's KEK, each identity
field sealed under it with its `FieldContext`, blind indexes by the real indexer), and
the parent COPYs them in chunks while the workers make the next ones. Every seeded
victim therefore reads, reveals and searches exactly like one taken in through the
API. What the seed skips: the `case_opened` timeline entry and the `case.create`
audit event of each seeded case (the benchmarks neither read nor verify them).

Users: the demo agencies and users (app/services/demo.py) plus `bench.worker`, a case
worker of SYT-40 with a random password. Half the cases belong to SYT-40 (readable by
bench.worker), the rest to CA-40 and CA-37. `bench-seed.json` in the data folder
(mode 0600) records the password, a sample of readable case ids and their victims'
national IDs for the load scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from faker import Faker

from app.models.person import ENCRYPTED_COLUMNS
from app.security.blind_index import PERSONS, BlindIndexer
from app.security.crypto import FieldContext, create_data_key
from app.security.keyring import load_or_create_dev_keyring
from app.services.person_fields import canonical_value, index_inputs

SEED_FILE = "bench-seed.json"
BENCH_USER = "bench.worker"
BENCH_AGENCY = "SYT-40"
OTHER_AGENCIES = ("CA-40", "CA-37")
PROVINCE = "40"
YEAR = 2026
CHUNK = 5_000
SAMPLE = 2_000

# Bulk load without the blind-index primary key, rebuilt afterwards (as the blind index
# bench does): at a million persons this halves the load time.
DROP_INDEX_KEYS = [
    "ALTER TABLE person_blind_indexes DROP CONSTRAINT pk_person_blind_indexes",
    "DROP INDEX ix_person_blind_indexes_person_id",
]
RESTORE_INDEX_KEYS = [
    "ALTER TABLE person_blind_indexes ADD CONSTRAINT pk_person_blind_indexes "
    "PRIMARY KEY (index_name, value, person_id)",
    "CREATE INDEX ix_person_blind_indexes_person_id ON person_blind_indexes (person_id)",
]


@dataclass
class SeedInfo:
    """What the load scenarios need from a seeded database (saved as bench-seed.json)."""

    cases: int
    username: str
    password: str
    case_ids: list[str] = field(default_factory=list)
    national_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def save(self, data_dir: Path) -> None:
        path = data_dir / SEED_FILE
        path.write_text(json.dumps(asdict(self)))
        path.chmod(0o600)

    @classmethod
    def load(cls, data_dir: Path) -> SeedInfo | None:
        path = data_dir / SEED_FILE
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy's `postgresql+asyncpg://` URL as a plain DSN asyncpg accepts."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def national_id(n: int) -> str:
    """A made-up 12-digit CCCD number, unique per n (province code prefix 001..096)."""
    return f"0{n % 96 + 1:02d}{n:09d}"


@dataclass(frozen=True)
class ChunkJob:
    data_dir: str
    start: int
    count: int
    agencies: dict[str, str]
    creator: str


@dataclass
class ChunkRows:
    persons: list[dict[str, Any]]
    person_keys: list[tuple[Any, ...]]
    person_blind_indexes: list[tuple[Any, ...]]
    cases: list[dict[str, Any]]
    case_persons: list[tuple[Any, ...]]


def make_chunk(job: ChunkJob) -> ChunkRows:
    """Rows for cases `start .. start+count` (runs in a worker process)."""
    keys = load_or_create_dev_keyring(Path(job.data_dir))
    indexer = BlindIndexer(keys.index_root_key())
    fake = Faker("vi_VN")
    fake.seed_instance(job.start)
    rng = random.Random(job.start)
    year_start = datetime(YEAR, 1, 1, tzinfo=UTC)
    span = (datetime(YEAR, 11, 1, tzinfo=UTC) - year_start).total_seconds()
    persons: list[dict[str, Any]] = []
    person_keys: list[tuple[Any, ...]] = []
    indexes: list[tuple[Any, ...]] = []
    cases: list[dict[str, Any]] = []
    links: list[tuple[Any, ...]] = []
    now = datetime.now(UTC)
    for n in range(job.start, job.start + job.count):
        person_id, case_id = uuid.uuid4(), uuid.uuid4()
        born = date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))
        sex = rng.choice(("female", "female", "female", "male"))
        values = {
            "full_name": canonical_value("full_name", fake.name()),
            "date_of_birth": canonical_value("date_of_birth", born),
            "national_id": canonical_value("national_id", national_id(n)),
            "phone": canonical_value("phone", f"09{n:08d}"),
            "address": canonical_value("address", fake.address()),
        }
        data_key, wrapped = create_data_key(keys, person_id)
        person: dict[str, Any] = {
            "id": person_id,
            "kind": "victim",
            "sex": sex,
            "nationality": "VN",
            "birth_year": born.year,
            "ethnicity_group": "kinh",
            "hometown_province_code": PROVINCE,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for column in ENCRYPTED_COLUMNS:
            if column in values:
                ctx = FieldContext(PERSONS, column, person_id, person_id)
                person[column] = data_key.encrypt(values[column], ctx)
        persons.append(person)
        person_keys.append((data_key.key_id, person_id, wrapped.kek_version, wrapped.blob, now))
        for name, value in indexer.compute_available(PERSONS, index_inputs(values)).items():
            indexes.append((name, value, person_id))
        received = year_start + timedelta(seconds=rng.random() * span)
        owner = BENCH_AGENCY if n % 2 == 0 else OTHER_AGENCIES[n % 4 // 2]
        age = received.year - born.year
        cases.append(
            {
                "id": case_id,
                "case_number": f"{PROVINCE}-{YEAR}-{n + 1:06d}",
                "province_code": PROVINCE,
                "year": YEAR,
                "serial": n + 1,
                "status": "received",
                "owner_agency_id": uuid.UUID(job.agencies[owner]),
                "intake_source": "police_rescue",
                "received_at": received,
                "exploitation_types": ["forced_labour"] if n % 3 else ["sexual"],
                "destination_country": "CN" if n % 5 else "KH",
                "victim_person_id": person_id,
                "is_child": age < 16,
                "is_minor": age < 18,
                "victim_sex": sex,
                "victim_age_at_intake": age,
                "victim_nationality": "VN",
                "victim_ethnicity_group": "kinh",
                "victim_hometown_province_code": PROVINCE,
                "currently_abroad": False,
                "next_due_at": received + timedelta(days=3),
                "version": 1,
                "created_by": uuid.UUID(job.creator),
                "created_at": received,
                "updated_at": received,
            }
        )
        links.append((case_id, person_id, "victim", now))
    return ChunkRows(persons, person_keys, indexes, cases, links)


async def _columns(conn: asyncpg.Connection, table: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table
    )
    return {r["column_name"] for r in rows}


async def _copy_dicts(
    conn: asyncpg.Connection, table: str, rows: list[dict[str, Any]], known: set[str]
) -> None:
    """COPY the keys the table has (other engineers add columns; missing ones default)."""
    names = [name for name in rows[0] if name in known]
    await conn.copy_records_to_table(
        table, records=[tuple(r.get(n) for n in names) for r in rows], columns=names
    )


async def _accounts(url: str) -> tuple[dict[str, str], str, str]:
    """Demo agencies and users, plus the bench user; returns agency ids, the bench
    user's id and password."""
    from app.db import make_engine, make_sessionmaker
    from app.schemas.user import UserCreate
    from app.security.permissions import Role
    from app.services import users
    from app.services.agencies import get_agency_by_code
    from app.services.demo import seed_demo

    password = secrets.token_urlsafe(16)
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            await seed_demo(session)
            agencies = {}
            for code in (BENCH_AGENCY, *OTHER_AGENCIES):
                agency = await get_agency_by_code(session, code)
                assert agency is not None, code
                agencies[code] = str(agency.id)
            user = await users.create_user(
                session,
                None,
                UserCreate(
                    username=BENCH_USER,
                    password=password,
                    full_name=Faker("vi_VN").name(),
                    role=Role.CASE_WORKER,
                    agency_id=uuid.UUID(agencies[BENCH_AGENCY]),
                ),
            )
            await session.commit()
            return agencies, str(user.id), password
    finally:
        await engine.dispose()


async def seed(url: str, data_dir: Path, cases: int, *, processes: int | None = None) -> SeedInfo:
    """Seed `cases` cases into the migrated database at `url`; keys from `data_dir`."""
    started = time.perf_counter()
    load_or_create_dev_keyring(data_dir)  # create it once, before the workers race
    agencies, creator, password = await _accounts(url)
    info = SeedInfo(cases=cases, username=BENCH_USER, password=password)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        known = {t: await _columns(conn, t) for t in ("persons", "cases")}
        await conn.execute("SET synchronous_commit = off")
        for statement in DROP_INDEX_KEYS:
            await conn.execute(statement)
        jobs = [
            ChunkJob(str(data_dir), start, min(CHUNK, cases - start), agencies, creator)
            for start in range(0, cases, CHUNK)
        ]
        loop = asyncio.get_running_loop()
        done = 0
        with ProcessPoolExecutor(processes or os.cpu_count() or 2) as pool:
            pending = [loop.run_in_executor(pool, make_chunk, job) for job in jobs]
            for future in pending:
                rows = await future
                async with conn.transaction():
                    await _copy_dicts(conn, "persons", rows.persons, known["persons"])
                    await conn.copy_records_to_table(
                        "person_keys",
                        records=rows.person_keys,
                        columns=["key_id", "person_id", "kek_version", "wrapped", "created_at"],
                    )
                    await conn.copy_records_to_table(
                        "person_blind_indexes",
                        records=rows.person_blind_indexes,
                        columns=["index_name", "value", "person_id"],
                    )
                    await _copy_dicts(conn, "cases", rows.cases, known["cases"])
                    await conn.copy_records_to_table(
                        "case_persons",
                        records=rows.case_persons,
                        columns=["case_id", "person_id", "role", "created_at"],
                    )
                mine = uuid.UUID(agencies[BENCH_AGENCY])
                readable = [c for c in rows.cases if c["owner_agency_id"] == mine]
                for case in readable[: max(1, SAMPLE // len(jobs) + 1)]:
                    info.case_ids.append(str(case["id"]))
                    info.national_ids.append(national_id(int(case["serial"]) - 1))
                done += len(rows.cases)
                if done % 50_000 < CHUNK or done == cases:
                    rate = done / (time.perf_counter() - started)
                    print(f"  seeded {done:,} cases ({rate:,.0f} cases/s)", flush=True)
        for statement in RESTORE_INDEX_KEYS:
            await conn.execute(statement)
        # Intake numbers its cases after the seeded ones.
        await conn.execute(
            "INSERT INTO case_number_counters (province_code, year, last_serial) "
            "VALUES ($1, $2, $3) ON CONFLICT (province_code, year) "
            "DO UPDATE SET last_serial = GREATEST(case_number_counters.last_serial, $3)",
            PROVINCE,
            YEAR,
            cases,
        )
        for table in ("persons", "person_keys", "person_blind_indexes", "cases", "case_persons"):
            await conn.execute(f"ANALYZE {table}")
    finally:
        await conn.close()
    info.seconds = time.perf_counter() - started
    info.save(data_dir)
    print(
        f"seeded {cases:,} cases with encrypted victims in {info.seconds:.1f} s "
        f"({cases / info.seconds:,.0f} cases/s, {processes or os.cpu_count()} processes)"
    )
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed a benchmark database (bench/seed.py).")
    parser.add_argument("--data-dir", type=Path, required=True, help="keyring and embedded pg")
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    from bench.harness import database

    with database(args.data_dir) as url:
        asyncio.run(seed(url, args.data_dir, args.cases))


if __name__ == "__main__":
    main()
