"""Reports over a million cases: the summary, the periodic return and (if present)
the CTDC export, timed as the services run them.

Run: .venv/bin/python bench/reports_bench.py [--cases 1000000] [--runs 5]
[--keep] [--reuse]

`--keep` leaves the seeded database in place; `--reuse` measures a database left by
`--keep` on DATABASE_URL's server (migrated to head first, not seeded again).

Uses DATABASE_URL's server if set (a scratch database `vcm_reports_bench` is created
on it and dropped afterwards), else an embedded PostgreSQL in a temporary folder,
migrated to head like the application's.

Seeding, in SQL (`INSERT ... SELECT generate_series`): `--cases` cases spread over
the provinces and 2020–2026 with varied reporting values, each with its own victim
(intake creates a new person row per reception); a placeholder person row per
victim (kind, sex, nationality only: no name, no ciphertext, nobody real or made
up); about 1.5 supports per case (80% delivered); the status history
(`verifying`, `identified`) of the cases that got that far, with their verification
record; a `victim` identification decision for the identified ones; 200,000 hotline reports; 50,000
referrals. Then ANALYZE.

Measured (median and max of `--runs` runs, each in its own session and transaction,
audit event included): summary by several groupings, nationally and for one
province; periodic for 2026-H1 and 2025, nationally and for one province; the CTDC
export nationally and for one province when app/services/reports/ctdc.py exists.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import migrate
from app.db import make_engine, make_sessionmaker
from app.models import Agency, User
from app.security.permissions import Role
from app.security.principal import Principal
from app.services.reports.periodic import periodic_report
from app.services.reports.summary import summary_report
from bench.harness import scratch_database

BENCH_DB = "vcm_reports_bench"
PROVINCE = "01"  # Hà Nội: the one-province runs

SEED_PERSONS = """
CREATE TABLE bench_victims AS
SELECT g AS vg, gen_random_uuid() AS id FROM generate_series(1, :count) AS g;
INSERT INTO persons (id, kind, sex, nationality, version, created_at, updated_at)
SELECT id, 'victim', 'female', 'VN', 1, now(), now() FROM bench_victims;
"""
# One victim per case, as intake does (a second reception is a new person row).
SEED_CASES = """
WITH codes AS (SELECT array_agg(code ORDER BY code) AS a FROM provinces),
src AS (
    SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
           timestamptz '2020-01-01 00:00+07' + random() * interval '7 years' AS at
    FROM generate_series(1, :count) AS g
)
INSERT INTO cases (id, case_number, province_code, year, serial, status, owner_agency_id,
    intake_source, received_at, exploitation_types, destination_country, victim_person_id,
    is_child, is_minor, victim_sex, victim_age_at_intake, victim_nationality,
    victim_ethnicity_group, victim_hometown_province_code, currently_abroad, version,
    created_by, created_at, updated_at)
SELECT gen_random_uuid(), 'B-' || g, codes.a[1 + (g * 7 + (g / 97)) % cardinality(codes.a)],
    extract(year FROM at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int, g,
    (ARRAY['received', 'verifying', 'identified', 'not_identified', 'supporting',
           'reintegrating', 'closed'])[1 + floor(r1 * 7)::int],
    :agency,
    (ARRAY['hotline', 'police_rescue', 'border_handover', 'repatriation', 'self_report',
           'commune', 'ngo', 'other'])[1 + floor(r2 * 8)::int],
    at,
    CASE WHEN r3 < 0.1 THEN ARRAY[]::varchar[]
         WHEN r3 < 0.7 THEN ARRAY[(ARRAY['sexual', 'forced_labour', 'forced_marriage',
              'baby_selling', 'organ_removal', 'forced_begging', 'other'])[1 + floor(r4 * 7)::int]]
         ELSE ARRAY['sexual', (ARRAY['forced_labour', 'forced_marriage', 'baby_selling',
              'organ_removal'])[1 + floor(r4 * 4)::int]]::varchar[] END,
    (ARRAY['CN', 'CN', 'CN', 'LA', 'KH', 'MM', 'VN', 'TH', 'MY', 'JP', NULL])
        [1 + floor(r4 * 11)::int],
    v.id,
    (g % 61) < 13, (g % 61) < 15,
    (ARRAY['female', 'female', 'female', 'male', 'male', 'other', 'unknown'])
        [1 + floor(r2 * 7)::int],
    CASE WHEN g % 10 = 0 THEN NULL ELSE 3 + g % 61 END,
    CASE WHEN g % 50 = 0 THEN 'LA' ELSE 'VN' END,
    CASE WHEN g % 9 = 0 THEN NULL WHEN g % 5 = 0 THEN 'minority' ELSE 'kinh' END,
    codes.a[1 + (g * 13) % cardinality(codes.a)],
    false, 1, :user, now(), now()
FROM src CROSS JOIN codes
JOIN bench_victims v ON v.vg = src.g
"""
SEED_SERVICES = """
INSERT INTO support_services (id, case_id, person_id, type, unit, quantity, service_date,
    amount_vnd, amount_overridden, cap_extended, status, requested_by, delivered_at, version,
    created_at)
SELECT gen_random_uuid(), c.id, c.victim_person_id,
    (ARRAY['essential_needs', 'medical', 'interpretation', 'legal_support', 'legal_aid',
           'travel', 'psychological', 'schooling', 'vocational', 'initial_allowance', 'loan',
           'health_insurance'])[1 + (c.serial + k) % 12],
    'lump_sum', 1, (c.received_at + k * interval '9 days')::date,
    50000 * (1 + (c.serial * k) % 40),
    false, false,
    CASE WHEN (c.serial + k) % 5 = 0 THEN 'requested' ELSE 'delivered' END,
    :user,
    CASE WHEN (c.serial + k) % 5 = 0 THEN NULL ELSE c.received_at + k * interval '9 days' END,
    1, now()
FROM cases c CROSS JOIN generate_series(1, 3) AS k
WHERE (c.serial * 31 + k) % 2 = 0
"""
SEED_HISTORY = """
INSERT INTO case_timeline (id, case_id, occurred_at, kind, from_status, to_status)
SELECT gen_random_uuid(), id, received_at + interval '2 days', 'status_changed', 'received',
       'verifying'
FROM cases WHERE status <> 'received';
INSERT INTO case_timeline (id, case_id, occurred_at, kind, from_status, to_status)
SELECT gen_random_uuid(), id, received_at + interval '20 days', 'status_changed', 'verifying',
       'identified'
FROM cases WHERE status IN ('identified', 'supporting', 'reintegrating', 'closed');
INSERT INTO case_verifications (id, case_id, outcome, completed_at, agency_ids, recorded_by,
    agency_id, created_at)
SELECT gen_random_uuid(), id, 'grounds_found', received_at + interval '2 days',
       ARRAY[CAST(:agency AS uuid)], :user, :agency, now()
FROM cases WHERE status <> 'received';
UPDATE cases SET verified_at = received_at + interval '2 days' WHERE status <> 'received';
INSERT INTO identification_decisions (id, case_id, decision, decided_at, legal_basis,
    evidence_ids, decided_by, agency_id, created_at)
SELECT gen_random_uuid(), id, 'victim', received_at + interval '20 days', '\\x00'::bytea,
       ARRAY[]::uuid[], :user, :agency, now()
FROM cases WHERE status IN ('identified', 'supporting', 'reintegrating', 'closed');
"""
SEED_HOTLINE = """
WITH codes AS (SELECT array_agg(code ORDER BY code) AS a FROM provinces)
INSERT INTO hotline_reports (id, received_at, channel, province_code, urgency, status,
    owner_agency_id, created_by, caller_person_id, summary, version, created_at, updated_at)
SELECT gen_random_uuid(),
    timestamptz '2020-01-01 00:00+07' + random() * interval '7 years', 'phone',
    codes.a[1 + (g * 11) % cardinality(codes.a)], 'routine',
    (ARRAY['open', 'case_opened', 'forwarded', 'closed'])[1 + g % 4],
    :agency, :user, (SELECT id FROM bench_victims WHERE vg = 1), '\\x00'::bytea, 1, now(), now()
FROM generate_series(1, :count) AS g CROSS JOIN codes
"""
SEED_REFERRALS = """
INSERT INTO referrals (id, case_id, from_agency_id, to_agency_id, purpose, services,
    shared_fields, legal_basis, status, due_at, created_by, created_by_type, created_at)
SELECT gen_random_uuid(), id, :agency,
    CASE WHEN serial % 2 = 0 THEN CAST(:police AS uuid) ELSE CAST(:national AS uuid) END,
    'support', ARRAY[]::varchar[], ARRAY[]::varchar[], 'investigation',
    CASE WHEN serial % 7 = 0 THEN 'cancelled' ELSE 'pending' END,
    received_at + interval '30 days', :user, 'user', received_at + interval '3 days'
FROM cases WHERE serial % 20 = 3
"""
TABLES = (
    "persons",
    "cases",
    "support_services",
    "case_timeline",
    "identification_decisions",
    "case_verifications",
    "hotline_reports",
    "referrals",
)


async def _script(session: AsyncSession, sql: str, params: dict[str, Any]) -> None:
    for statement in (s.strip() for s in sql.split(";")):
        if statement:
            names = {k: v for k, v in params.items() if f":{k}" in statement}
            await session.execute(text(statement), names)


async def seed(sessions: async_sessionmaker[AsyncSession], cases: int) -> dict[str, Any]:
    ids = {
        "national": uuid.uuid4(),
        "provincial": uuid.uuid4(),
        "police": uuid.uuid4(),
        "user": uuid.uuid4(),
    }
    params: dict[str, Any] = {**ids, "agency": ids["provincial"]}
    async with sessions() as session:
        for key, kind, province in (
            ("national", "national", None),
            ("provincial", "social_affairs", PROVINCE),
            ("police", "police", PROVINCE),
        ):
            session.add(
                Agency(
                    id=ids[key],
                    code=f"BENCH-{key}",
                    name=f"Bench {key}",
                    kind=kind,
                    province_code=province,
                )
            )
        await session.flush()
        session.add(
            User(
                id=ids["user"],
                username="bench-analyst",
                password_hash="-",  # noqa: S106 (nobody logs in)
                full_name="Bench",
                role=Role.ANALYST.value,
                agency_id=ids["national"],
            )
        )
        await session.commit()
    steps: tuple[tuple[str, str, dict[str, Any]], ...] = (
        ("persons", SEED_PERSONS, {"count": cases}),
        ("cases", SEED_CASES, {"count": cases}),
        ("support services", SEED_SERVICES, {}),
        ("status history and decisions", SEED_HISTORY, {}),
        ("hotline reports", SEED_HOTLINE, {"count": 200_000}),
        ("referrals", SEED_REFERRALS, {}),
    )
    for label, sql, extra in steps:
        started = time.perf_counter()
        async with sessions() as session:
            await session.execute(text("SET LOCAL synchronous_commit = off"))
            await _script(session, sql, {**params, **extra})
            await session.commit()
        print(f"seeded {label} in {time.perf_counter() - started:.1f} s", flush=True)
    async with sessions() as session:
        await session.execute(text("DROP TABLE bench_victims"))
        for table in TABLES:
            await session.execute(text(f"ANALYZE {table}"))
        await session.commit()
        for table in TABLES:
            count = (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar()  # noqa: S608
            print(f"  {table:<26} {count:>10,} rows")
    return ids


def principal(ids: dict[str, Any], province: str | None) -> Principal:
    return Principal(
        actor_id=ids["user"],
        role=Role.ANALYST,
        agency_id=ids["national"] if province is None else ids["provincial"],
        agency_kind="national" if province is None else "social_affairs",
        province_code=province,
    )


async def timed(
    sessions: async_sessionmaker[AsyncSession],
    label: str,
    call: Callable[[AsyncSession], Awaitable[Any]],
    runs: int,
) -> None:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        async with sessions() as session:
            await call(session)
            await session.commit()
        samples.append(time.perf_counter() - started)
    print(
        f"{label:<52} median {statistics.median(samples) * 1000:7.0f} ms   "
        f"max {max(samples) * 1000:7.0f} ms",
        flush=True,
    )


async def run(url: str, cases: int, runs: int) -> None:
    # Seeding runs for minutes: an engine without the application's 30 s command
    # timeout; the timed calls use the application's engine.
    loader = create_async_engine(url, connect_args={"command_timeout": 3600})
    try:
        ids = await seed(make_sessionmaker(loader), cases)
    finally:
        await loader.dispose()
    print(f"\n{cases:,} cases; {runs} runs each\n")
    await measure(url, ids, runs)


async def measure(url: str, ids: dict[str, Any], runs: int) -> None:
    """Time every report on the seeded database at `url`."""
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    try:
        national, hanoi = principal(ids, None), principal(ids, PROVINCE)
        groupings: tuple[list[str], ...] = (
            [],
            ["sex"],
            ["age_band"],
            ["province"],
            ["sex", "age_band"],
            ["destination_country", "status"],
            ["exploitation_type"],
            ["support_type", "sex"],
            ["exploitation_type", "support_type"],
        )
        for who, scope in ((national, "national"), (hanoi, PROVINCE)):
            for group_by in groupings:
                await timed(
                    sessions,
                    f"summary {scope} group_by={','.join(group_by) or '-'}",
                    lambda s, g=group_by, p=who: summary_report(  # type: ignore[misc]
                        s, p, province_code=None, from_date=None, to_date=None, group_by=g
                    ),
                    runs,
                )
        for who, scope in ((national, "national"), (hanoi, PROVINCE)):
            for period in ("2026-H1", "2025"):
                await timed(
                    sessions,
                    f"periodic {scope} {period}",
                    lambda s, q=period, p=who: periodic_report(  # type: ignore[misc]
                        s, p, period=q, province_code=None
                    ),
                    runs,
                )
        if importlib.util.find_spec("app.services.reports.ctdc") is not None:
            from app.services.reports import ctdc

            for who, scope in ((national, "national"), (hanoi, PROVINCE)):
                await timed(
                    sessions,
                    f"ctdc export {scope}",
                    lambda s, p=who: ctdc.export_ctdc(  # type: ignore[misc]
                        s, p, province_code=None, year_from=None, year_to=None
                    ),
                    runs,
                )
        else:
            print("ctdc export: app/services/reports/ctdc.py absent, not measured")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave the seeded database")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database")
    args = parser.parse_args()
    if args.reuse:
        kept = make_url(os.environ["DATABASE_URL"]).set(database=BENCH_DB)
        rendered = kept.render_as_string(hide_password=False)
        migrate.upgrade(rendered)
        asyncio.run(_measure_kept(rendered, args.runs))
        return
    with scratch_database(BENCH_DB, keep=args.keep) as url:
        asyncio.run(run(url, args.cases, args.runs))


async def _measure_kept(url: str, runs: int) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT code, id FROM agencies"))).all()
            user = (
                await conn.execute(text("SELECT id FROM users WHERE username = 'bench-analyst'"))
            ).scalar_one()
            for table in TABLES:
                await conn.execute(text(f"ANALYZE {table}"))
            await conn.commit()
    finally:
        await engine.dispose()
    ids: dict[str, Any] = {code.removeprefix("BENCH-"): id_ for code, id_ in rows}
    await measure(url, {**ids, "user": user}, runs)


if __name__ == "__main__":
    main()
