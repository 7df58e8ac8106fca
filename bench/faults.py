"""Fault drills against the running service: PostgreSQL stopped under load, a worker
killed with SIGKILL under load. Prints PASS/FAIL lines; exits 1 if any check fails.

    .venv/bin/python bench/faults.py [--cases 2000] [--down 10] [--concurrency 8]

Needs the embedded PostgreSQL (it stops and restarts it), so `DATABASE_URL` must be
unset. Everything lives in a temporary folder, removed at the end (`--keep` keeps it).

1. Outage: intake load; PostgreSQL is stopped (`pg_ctl stop -m fast`) for `--down`
   seconds and started again. Checks: every answer while it is down is 503
   problem+json with Retry-After, each within 5 s; no 500 and no dropped connection at
   any time; intakes answer 201 again soon after the restart with the same worker
   processes (no restart of the service); every case answered 201 is in the database
   with its `case.create` audit event.
2. Worker killed: intake load; one worker gets SIGKILL. Checks: the supervisor starts
   a replacement; every case answered 201 is in the database with its audit event.
3. The audit chain verifies (`vcm audit verify`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    ROOT,
    VENV_BIN,
    BenchDatabase,
    Sample,
    Service,
    free_port,
    run_load,
)
from bench.load import intake_body, login
from bench.seed import asyncpg_dsn, seed

ANSWER_WITHIN_S = 5.0
RECOVER_WITHIN_S = 10.0


@dataclass
class Answer:
    started: float
    ended: float
    status: int
    problem: bool
    retry_after: bool
    case_id: str | None


class Drill:
    def __init__(self) -> None:
        self.failed = False

    def check(self, label: str, passed: bool) -> None:
        self.failed = self.failed or not passed
        print(f"{'PASS' if passed else 'FAIL'}  {label}", flush=True)


async def intake_under_load(
    service: Service,
    auth: dict[str, str],
    seconds: float,
    concurrency: int,
    during: Awaitable[None],
) -> list[Answer]:
    """Intake load for `seconds` while the coroutine `during` runs; every answer."""
    from faker import Faker

    fake = Faker("vi_VN")
    answers: list[Answer] = []
    headers = {**auth, "Content-Type": "application/json"}

    def record(sample: Sample) -> None:
        case_id = None
        if sample.status == 201:
            case_id = json.loads(sample.body)["id"]
        answers.append(
            Answer(
                sample.started,
                sample.started + sample.elapsed,
                sample.status,
                sample.headers.get("content-type", "").startswith("application/problem+json"),
                "retry-after" in sample.headers,
                case_id,
            )
        )

    await asyncio.gather(
        run_load(
            "intake",
            service.port,
            lambda n: ("POST", "/api/v1/cases", headers, intake_body(n, fake)),
            expect=201,
            concurrency=concurrency,
            seconds=seconds,
            warmup=0,
            on_sample=record,
        ),
        during,
    )
    return answers


async def stored(url: str, case_ids: list[str]) -> tuple[int, int]:
    """How many of `case_ids` are in `cases`, and how many have a case.create event."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        cases = await conn.fetchval(
            "SELECT count(*) FROM cases WHERE id = ANY($1::uuid[])", case_ids
        )
        events = await conn.fetchval(
            "SELECT count(DISTINCT resource_id) FROM audit_events "
            "WHERE action = 'case.create' AND resource_id = ANY($1::text[])",
            case_ids,
        )
        return int(cases), int(events)
    finally:
        await conn.close()


async def check_acknowledged(drill: Drill, url: str, answers: list[Answer], phase: str) -> None:
    acked = [a.case_id for a in answers if a.case_id]
    cases, events = await stored(url, acked)
    drill.check(f"{phase}: {cases}/{len(acked)} cases answered 201 are stored", cases == len(acked))
    drill.check(
        f"{phase}: {events}/{len(acked)} of them have their case.create audit event",
        events == len(acked),
    )


async def outage(drill: Drill, db: BenchDatabase, service: Service, auth: dict[str, str],
                 args: argparse.Namespace) -> None:  # fmt: skip
    loop = asyncio.get_running_loop()
    marks: dict[str, float] = {}
    workers_before = {p.pid for p in service.workers()}

    async def stop_and_start() -> None:
        await asyncio.sleep(4)
        marks["stopping"] = loop.time()
        await asyncio.to_thread(db.stop_postgres)
        marks["down"] = loop.time()
        print(f"  PostgreSQL stopped ({marks['down'] - marks['stopping']:.1f} s)", flush=True)
        await asyncio.sleep(args.down)
        marks["starting"] = loop.time()
        await asyncio.to_thread(db.start_postgres)
        marks["up"] = loop.time()
        print(f"  PostgreSQL started ({marks['up'] - marks['starting']:.1f} s)", flush=True)

    seconds = 4 + args.down + 8 + RECOVER_WITHIN_S
    answers = await intake_under_load(service, auth, seconds, args.concurrency, stop_and_start())
    down = [a for a in answers if marks["down"] <= a.started and a.ended <= marks["starting"]]
    statuses = sorted({a.status for a in answers})
    print(f"  {len(answers)} answers, statuses {statuses}; {len(down)} while down")
    waits = sorted((a.ended - a.started) * 1000 for a in answers if a.status == 503)
    if waits:
        print(
            f"  503 answers: {len(waits)}, latency p50 {waits[len(waits) // 2]:.0f} ms, "
            f"p99 {waits[int(len(waits) * 0.99)]:.0f} ms, max {waits[-1]:.0f} ms"
        )
    drill.check(f"outage: {len(down)} requests were answered while down", len(down) > 0)
    bad = [a for a in down if not (a.status == 503 and a.problem and a.retry_after)]
    drill.check(
        f"outage: every answer while down is 503 problem+json with Retry-After ({len(bad)} others)",
        not bad,
    )
    slowest = max((a.ended - a.started for a in answers if a.status != 201), default=0.0)
    drill.check(
        f"outage: slowest non-201 answer {slowest:.2f} s < {ANSWER_WITHIN_S:.0f} s",
        slowest < ANSWER_WITHIN_S,
    )
    odd = [a.status for a in answers if a.status not in (201, 503)]
    drill.check(f"outage: no answer other than 201 or 503 ({odd[:10]})", not odd)
    after = [a for a in answers if a.started >= marks["up"] and a.status == 201]
    recovered = after[0].ended - marks["up"] if after else float("inf")
    drill.check(
        f"outage: first 201 {recovered:.2f} s after PostgreSQL was up (< {RECOVER_WITHIN_S:.0f} s)",
        recovered < RECOVER_WITHIN_S,
    )
    tail = [a for a in answers if a.started >= marks["up"] + RECOVER_WITHIN_S]
    drill.check(
        f"outage: all {len(tail)} intakes from {RECOVER_WITHIN_S:.0f} s after the restart on "
        "answered 201",
        bool(tail) and all(a.status == 201 for a in tail),
    )
    drill.check(
        "outage: recovered without restarting a worker",
        {p.pid for p in service.workers()} == workers_before,
    )
    await check_acknowledged(drill, db.url, answers, "outage")


async def kill_worker(drill: Drill, db: BenchDatabase, service: Service, auth: dict[str, str],
                      args: argparse.Namespace) -> None:  # fmt: skip
    before = {p.pid for p in service.workers()}
    victim: dict[str, int] = {}

    async def kill() -> None:
        await asyncio.sleep(4)
        pid = sorted(before)[0]
        os.kill(pid, signal.SIGKILL)
        victim["pid"] = pid
        print(f"  SIGKILL sent to worker {pid}", flush=True)

    answers = await intake_under_load(service, auth, 14, args.concurrency, kill())
    lost = sum(1 for a in answers if a.status == 0)
    statuses = sorted({a.status for a in answers})
    print(f"  {len(answers)} answers, statuses {statuses}; {lost} requests got no answer")
    deadline = time.monotonic() + 20
    after: set[int] = set()
    while time.monotonic() < deadline:
        after = {p.pid for p in service.workers()}
        if len(after) >= len(before) and victim["pid"] not in after:
            break
        await asyncio.sleep(0.5)
    drill.check(
        f"kill: the supervisor replaced the killed worker ({len(after)} workers, new "
        f"{sorted(after - before)})",
        len(after) >= len(before) and victim["pid"] not in after,
    )
    odd = [a.status for a in answers if a.status not in (0, 201, 503)]
    drill.check(
        f"kill: no answer other than 201, 503 or a dropped connection ({odd[:10]})", not odd
    )
    await check_acknowledged(drill, db.url, answers, "kill")


def verify_audit(drill: Drill, env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "vcm"), "audit", "verify"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    last = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1:] or [""]
    drill.check(f"audit chain verifies (vcm audit verify: exit {done.returncode}; {last[0]})",
                done.returncode == 0)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2_000, help="seeded cases")
    parser.add_argument("--down", type=float, default=10.0, help="seconds PostgreSQL is down")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if os.environ.get("DATABASE_URL"):
        print("faults.py stops and starts the embedded PostgreSQL; unset DATABASE_URL.")
        return 2
    data_dir = Path(tempfile.mkdtemp(prefix="vcm-faults-"))
    db = BenchDatabase(data_dir)
    service: Service | None = None
    drill = Drill()
    try:
        url = db.start()
        info = asyncio.run(seed(url, data_dir, args.cases))
        env = {
            "DATABASE_URL": url,
            "VCM_DATA_DIR": str(data_dir),
            "VCM_WORKERS": str(args.workers),
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
        auth = login(service.base, info)
        print(f"\n1. PostgreSQL stopped for {args.down:.0f} s under intake load "
              f"({args.concurrency} clients)")  # fmt: skip
        asyncio.run(outage(drill, db, service, auth, args))
        print(f"\n2. one of {args.workers} workers killed with SIGKILL under intake load")
        asyncio.run(kill_worker(drill, db, service, auth, args))
        print("\n3. audit chain")
        service.stop()
        verify_audit(drill, env)
    finally:
        if service is not None:
            service.stop()
        db.close()
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    print("\nFAULTS: " + ("FAIL" if drill.failed else "PASS"))
    return 1 if drill.failed else 0


if __name__ == "__main__":
    sys.exit(main())
