"""Throughput and latency of the service under uvicorn, against a seeded database.

    .venv/bin/python bench/load.py                      # 100,000 cases, 20 s per scenario
    .venv/bin/python bench/load.py --cases 1000000 --reuse --duration 30

Starts the embedded PostgreSQL under `--data-dir` (or uses `DATABASE_URL`, which must
be a throwaway database), migrates, seeds with bench/seed.py (or, with `--reuse`,
keeps a folder seeded earlier with the same `--cases`), starts `vcm serve` with two
workers and drives it with 32 concurrent keep-alive clients, one scenario at a time:
case read masked, case read with identity reveal (decrypt + audit), a participant's
read (a police user reading, revealed, the fields social affairs shared with it through
referrals of 200 sample cases, which the script makes and accepts once), case list page,
search by national ID, intake. Then it stops the service, starts bench/baseline.py
(bare Starlette + asyncpg, the same SQL as a case read) with two workers on the same
database, served the same way (`app.serve`), and drives it the same way.

Prints requests per second, p50/p95/p99 latency, errors, the workers' peak RSS and
the CPU (in cores) used by the server's workers and by this client, the ratio of the
reveal read to the baseline, and each target as PASS or FAIL. The client runs on the
same cores as the server and the database: its share is printed beside each line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import psutil
from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    ROOT,
    VENV_BIN,
    BenchDatabase,
    LoadResult,
    Request,
    Service,
    free_port,
    print_table,
    run_load,
)
from bench.seed import SeedInfo, asyncpg_dsn, national_id, seed

READ_P99_MS = 50.0
INTAKE_P99_MS = 100.0
RSS_LIMIT_MB = 250.0
BASELINE_RATIO = 0.5
READS = (
    "case read, masked",
    "case read, reveal",
    "case read, participant reveal",
    "case list page",
    "search by national ID",
)
PARTICIPANT_CASES = 200


def login(base: str, info: SeedInfo, username: str = "", password: str = "") -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": username or info.username,
            "password": password or info.password,
        },
        timeout=30,
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def participant_account(url: str) -> tuple[str, str]:
    """A new case worker of CA-40 (provincial police) with a random password: the
    reader of the participant scenario (one per run; the password is not kept)."""
    from app.db import make_engine, make_sessionmaker
    from app.schemas.user import UserCreate
    from app.security.permissions import Role
    from app.services import users
    from app.services.agencies import get_agency_by_code

    username, password = f"bench.police.{os.urandom(4).hex()}", os.urandom(16).hex()
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            police = await get_agency_by_code(session, "CA-40")
            assert police is not None
            await users.create_user(
                session,
                None,
                UserCreate(username=username, password=password, full_name="Bench Police",
                           role=Role.CASE_WORKER, agency_id=police.id),
            )  # fmt: skip
            await session.commit()
    finally:
        await engine.dispose()
    return username, password


async def spread_receiver(url: str, provinces: list[str]) -> tuple[str, str]:
    """A new case worker of a border guard of Nghệ An with posts in every province (an
    agency receives only in its province and at its posts): who makes the intakes
    spread over all provinces. The agency is made once; the user once per run."""
    from app.db import make_engine, make_sessionmaker
    from app.schemas.agency import AgencyCreate
    from app.schemas.user import UserCreate
    from app.security.permissions import Role
    from app.services import agencies, users

    username, password = f"bench.guard.{os.urandom(4).hex()}", os.urandom(16).hex()
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            guard = await agencies.get_agency_by_code(session, "BENCH-BDBP")
            if guard is None:
                guard = await agencies.create_agency(
                    session,
                    AgencyCreate(code="BENCH-BDBP", name="Bench border guard",
                                 kind="border_guard", province_code="40",
                                 post_province_codes=provinces),
                )  # fmt: skip
            await users.create_user(
                session,
                None,
                UserCreate(username=username, password=password, full_name="Bench Guard",
                           role=Role.CASE_WORKER, agency_id=guard.id),
            )  # fmt: skip
            await session.commit()
    finally:
        await engine.dispose()
    return username, password


async def participations(
    service: Service, info: SeedInfo, url: str
) -> tuple[list[str], dict[str, str]]:
    """The first PARTICIPANT_CASES sample cases (led by SYT-40), each referred to the
    provincial police for identification (investigation basis) and accepted, unless an
    earlier run did it: the cases a police user reads as a participant, and its bearer
    header."""
    police = login(service.base, info, *await participant_account(url))
    lead = login(service.base, info)
    ids = info.case_ids[:PARTICIPANT_CASES]
    async with httpx.AsyncClient(base_url=service.base, timeout=30) as client:
        me = (await client.get("/api/v1/auth/me", headers=police)).json()
        for case_id in ids:
            if (await client.get(f"/api/v1/cases/{case_id}", headers=police)).status_code == 200:
                continue
            body = {"case_id": case_id, "to_agency_id": me["agency_id"],
                    "purpose": "identification",
                    "shared_fields": ["victim.full_name", "victim.date_of_birth",
                                      "victim.national_id"]}  # fmt: skip
            referral = await client.post("/api/v1/referrals", json=body, headers=lead)
            referral.raise_for_status()
            answer = f"/api/v1/referrals/{referral.json()['id']}/accept"
            (await client.post(answer, headers=police)).raise_for_status()
    return ids, police


def intake_body(n: int, fake: Faker, province: str = "40") -> bytes:
    body = {
        "intake_source": "police_rescue",
        "received_at": datetime.now(UTC).isoformat(),
        "received_location": {"province_code": province},
        "victim": {
            "full_name": fake.name(),
            "date_of_birth": f"{1980 + n % 25}-0{1 + n % 9}-1{n % 10}",
            "sex": "female",
            "nationality": "VN",
            "national_id": national_id(50_000_000 + n + random.randrange(10**8)),
            "phone": f"03{random.randrange(10**8):08d}",
        },
        "exploitation_types": ["forced_labour"],
        "destination_country": "CN",
    }
    return json.dumps(body).encode()


def scenarios(
    info: SeedInfo,
    provinces: list[str],
    participant: tuple[list[str], dict[str, str]] | None = None,
    spread: dict[str, str] | None = None,
) -> list[tuple[str, int, object]]:
    """(name, expected status, request maker). The first intake takes every case in the
    bench user's province, so intakes queue on that province's number counter (the
    worst case); the second spreads them over all provinces, as a national load would.
    The participant read is the police reading, revealed, the shared fields of cases
    social affairs leads (`participations`). The spread intakes are made by `spread`
    (`spread_receiver`'s bearer), the bench user otherwise."""
    fake = Faker("vi_VN")
    ids, nids = info.case_ids, info.national_ids
    reveal = {"X-Purpose-Of-Use": "case_management"}
    json_type = {"Content-Type": "application/json"}
    shared: list[tuple[str, int, object]] = []
    if participant is not None:
        pids, police = participant
        as_police = {**police, "X-Purpose-Of-Use": "investigation"}
        shared.append(
            (
                "case read, participant reveal",
                200,
                lambda n: ("GET", f"/api/v1/cases/{pids[n % len(pids)]}?reveal=identity",
                           as_police),
            )
        )  # fmt: skip
    return [
        ("case read, masked", 200, lambda n: ("GET", f"/api/v1/cases/{ids[n % len(ids)]}", {})),
        (
            "case read, reveal",
            200,
            lambda n: ("GET", f"/api/v1/cases/{ids[n % len(ids)]}?reveal=identity", reveal),
        ),
        *shared,
        ("case list page", 200, lambda n: ("GET", "/api/v1/cases?limit=50", {})),
        (
            "search by national ID",
            200,
            lambda n: ("GET", f"/api/v1/cases/search?national_id={nids[n % len(nids)]}", {}),
        ),
        ("intake", 201, lambda n: ("POST", "/api/v1/cases", json_type, intake_body(n, fake))),
        (
            f"intake, {len(provinces)} provinces",
            201,
            lambda n: (
                "POST",
                "/api/v1/cases",
                {**json_type, **(spread or {})},
                intake_body(n, fake, provinces[n % len(provinces)]),
            ),
        ),
    ]


async def drive(
    service: Service, info: SeedInfo, provinces: list[str], url: str, args: argparse.Namespace
) -> list[LoadResult]:
    results = []
    wanted = {s.strip() for s in args.scenarios.split(",")} if args.scenarios else None
    participant = None
    if wanted is None or any("participant" in w for w in wanted):
        participant = await participations(service, info, url)
    spread = None
    if wanted is None or any("provinces" in w for w in wanted):
        spread = login(service.base, info, *await spread_receiver(url, provinces))
    plan = scenarios(info, provinces, participant, spread)
    _, expect, make = plan[0]
    await warm_up(service, authorized(make, login(service.base, info)), expect, args)
    for name, expect, make in plan:
        if wanted and not any(w in name for w in wanted):
            continue
        result = await run_load(
            name,
            service.port,
            authorized(make, login(service.base, info)),
            expect=expect,
            concurrency=args.concurrency,
            seconds=args.duration,
            warmup=args.warmup,
            processes=service.workers,
            rate=args.intake_rate if name.startswith("intake") else args.rate,
        )
        print_table([result])
        results.append(result)
    return results


def authorized(make: object, auth: dict[str, str]) -> Callable[[int], Request]:
    """A scenario's request maker with the bearer token added."""

    def request(n: int) -> Request:
        method, path, headers, *body = make(n)  # type: ignore[operator]
        return method, path, {**auth, **headers}, body[0] if body else b""

    return request


async def warm_up(
    service: Service, request: Callable[[int], Request], expect: int, args: argparse.Namespace
) -> None:
    """Once after start, before anything is measured: `request` back to back for
    `--service-warmup` seconds. A service just started opens its pooled connections and
    prepares its statements on each; under open load the backlog of those first seconds
    outlived a scenario's own warm-up (the first scenario's p99 was several times the
    next one's). The baseline is warmed up the same way."""
    if args.service_warmup <= 0:
        return
    await run_load(
        "service warm-up",
        service.port,
        request,
        expect=expect,
        concurrency=args.concurrency,
        seconds=args.service_warmup,
        warmup=0,
    )


async def drive_baseline(service: Service, info: SeedInfo, args: argparse.Namespace) -> LoadResult:
    ids = info.case_ids

    def request(n: int) -> Request:
        return "GET", f"/cases/{ids[n % len(ids)]}", {}, b""

    await warm_up(service, request, 200, args)
    return await run_load(
        "baseline: select + audit insert",
        service.port,
        request,
        expect=200,
        concurrency=args.concurrency,
        seconds=args.duration,
        warmup=args.warmup,
        processes=service.workers,
        rate=args.rate,
    )


async def database_facts(url: str) -> tuple[str, list[str]]:
    """PostgreSQL's version and the province codes."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        version = str(await conn.fetchval("SHOW server_version"))
        provinces = [row["code"] for row in await conn.fetch("SELECT code FROM provinces")]
        return version, sorted(provinces)
    finally:
        await conn.close()


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} CPU ({model}), {memory:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def verdicts(results: list[LoadResult], baseline: LoadResult | None, open_loop: bool) -> bool:
    ok = True

    def check(label: str, passed: bool) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"{'PASS' if passed else 'FAIL'}  {label}")

    by_name = {r.name: r for r in results}
    for r in results:
        limit = INTAKE_P99_MS if r.name.startswith("intake") else READ_P99_MS
        check(f"{r.name}: p99 {r.pct(99):.1f} ms < {limit:.0f} ms", r.pct(99) < limit)
        check(f"{r.name}: {r.errors} errors", r.errors == 0)
    rss = max((max(r.peak_rss_mb.values(), default=0) for r in results), default=0)
    check(f"worker peak RSS {rss:.0f} MB < {RSS_LIMIT_MB:.0f} MB", rss < RSS_LIMIT_MB)
    reveal = by_name.get("case read, reveal")
    if open_loop:
        print("(open load: the ratio to the baseline is measured only with clients back to back)")
    elif reveal and baseline and baseline.rps:
        ratio = reveal.rps / baseline.rps
        check(
            f"reveal read {reveal.rps:.0f} req/s = {ratio:.2f} x baseline {baseline.rps:.0f} "
            f"req/s (target >= {BASELINE_RATIO})",
            ratio >= BASELINE_RATIO,
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, help="default var-bench/<cases>")
    parser.add_argument("--reuse", action="store_true", help="keep a folder seeded before")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, each scenario")
    parser.add_argument(
        "--service-warmup", type=float, default=10.0, help="seconds, once after start"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenarios", help="comma-separated name parts (default: all)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--log-level", default="INFO", help="the service's VCM_LOG_LEVEL")
    parser.add_argument(
        "--rate",
        type=float,
        help="open load: reads (and the baseline) at this many requests/s, latency counted "
        "from when each was due (default: clients back to back)",
    )
    parser.add_argument(
        "--intake-rate", type=float, help="open load for the intakes, requests/s (with --rate)"
    )
    args = parser.parse_args()
    if (args.rate is None) != (args.intake_rate is None):
        parser.error("--rate and --intake-rate go together")
    data_dir: Path = (args.data_dir or ROOT / "var-bench" / str(args.cases)).resolve()
    info = SeedInfo.load(data_dir) if args.reuse else None
    if info is not None and info.cases != args.cases:
        print(f"{data_dir} holds {info.cases:,} cases, not {args.cases:,}; drop --reuse")
        return 2
    if info is None and data_dir.exists() and not os.environ.get("DATABASE_URL"):
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)

    db = BenchDatabase(data_dir)
    service: Service | None = None
    try:
        url = db.start()
        if info is None:
            print(f"seeding {args.cases:,} cases into {data_dir} ...")
            info = asyncio.run(seed(url, data_dir, args.cases))
        else:
            print(f"reusing {data_dir} ({info.cases:,} cases, seeded in {info.seconds:.0f} s)")
        version, provinces = asyncio.run(database_facts(url))
        print(f"machine: {machine()}; PostgreSQL {version}")
        pace = (
            "back to back"
            if args.rate is None
            else f"open load, reads {args.rate:g}/s, intakes {args.intake_rate:g}/s"
        )
        print(
            f"load: {args.concurrency} keep-alive clients ({pace}) in one process on the same "
            f"machine, {args.warmup:.0f} s warm-up + {args.duration:.0f} s per scenario, "
            f"{args.workers} uvicorn workers, VCM_LOG_LEVEL={args.log_level}\n"
        )
        env = {
            "DATABASE_URL": url,
            "VCM_DATA_DIR": str(data_dir),
            "VCM_WORKERS": str(args.workers),
            "VCM_LOG_LEVEL": args.log_level,
            "VCM_ACCESS_TOKEN_TTL": "900",
        }
        port = free_port()
        service = Service(
            [str(VENV_BIN / "vcm"), "serve", "--port", str(port), "--workers", str(args.workers)],
            env,
            port,
            data_dir / "service.log",
            "vcm serve",
        )
        service.start()
        started = time.perf_counter()
        results = asyncio.run(drive(service, info, provinces, url, args))
        service.stop()
        baseline = None
        if not args.no_baseline:
            port = free_port()
            service = Service(
                [
                    str(VENV_BIN / "python"),
                    "-m",
                    "bench.baseline",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.workers),
                ],
                {"BASELINE_DATABASE_URL": url, "VCM_WORKERS": str(args.workers)},
                port,
                data_dir / "baseline.log",
                "baseline",
            )
            service.start()
            baseline = asyncio.run(drive_baseline(service, info, args))
            service.stop()
        took = time.perf_counter() - started
        print(f"\nall scenarios, {info.cases:,} seeded cases ({took:.0f} s):")
        print_table(results + ([baseline] if baseline else []))
        print(
            "(CPU srv/cli: cores used by the server's workers / by this load client; "
            "PostgreSQL uses the rest)\n"
        )
        return 0 if verdicts(results, baseline, args.rate is not None) else 1
    finally:
        if service is not None:
            service.stop()
        db.close()


if __name__ == "__main__":
    sys.exit(main())
