"""Audit trail throughput on this machine, in process against an embedded PostgreSQL.

    .venv/bin/python bench/audit_bench.py [seconds-per-measurement] [backlog-events]

Prints:
- audit inserts per second from concurrent writers (each: one transaction, one event),
  against the same transactions with no event, to show what the audit row costs;
- audited API requests per second (concurrent GET /api/v1/users/{id}, one event each)
  while the background sealer runs, and how far behind the sealer was at the end;
- sealing speed and verification speed (events per second) over a backlog.
No real person's data is used.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import audit, migrate
from app.audit.chain import seal
from app.audit.verify import verify
from app.audit.worker import seal_round
from app.config import Settings
from app.embedded import EmbeddedPostgres
from app.main import create_app
from app.models import Agency, User
from app.security.passwords import hash_password

WRITERS = 32


async def _rate(seconds: float, writers: int, one: object) -> float:
    """Run `one()` from `writers` concurrent tasks for `seconds`; return calls per second."""
    count = 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await one()  # type: ignore[operator]
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(writers)))
    return count / (time.perf_counter() - started)


async def _unsealed(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        events = (await session.execute(text("SELECT count(*) FROM audit_events"))).scalar_one()
        seals = (await session.execute(text("SELECT count(*) FROM audit_seals"))).scalar_one()
        return int(events) - int(seals)


async def measure(url: str, data_dir: Path, seconds: float, backlog: int) -> None:
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=url,
        VCM_DATA_DIR=data_dir,
        VCM_LOG_LEVEL="WARNING",
        VCM_DB_POOL_SIZE=WRITERS,
        VCM_AUDIT_SEAL_INTERVAL=0.5,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker

        async with sessionmaker() as session:
            await session.execute(
                text("CREATE TABLE bench_work (id bigserial PRIMARY KEY, at timestamptz)")
            )
            await session.commit()

        async def read_only() -> None:
            async with sessionmaker() as session:
                await session.execute(text("SELECT 1"))
                await session.commit()

        async def work(*, audited: bool) -> None:
            async with sessionmaker() as session:
                await session.execute(text("INSERT INTO bench_work (at) VALUES (now())"))
                if audited:
                    await audit.record(session, action="bench.write", resource_type="bench")
                await session.commit()

        async def event_only() -> None:
            async with sessionmaker() as session:
                await audit.record(session, action="bench.read", resource_type="bench")
                await session.commit()

        print(f"{WRITERS} concurrent writers, {seconds:.0f} s per measurement")
        for label, one, unit in (
            ("read-only transactions, no event", read_only, "/s"),
            ("read transactions + one audit insert", event_only, "events/s"),
            ("write transactions (one row), no event", lambda: work(audited=False), "/s"),
            (
                "write transactions (one row) + one audit insert",
                lambda: work(audited=True),
                "events/s",
            ),
        ):
            rate = await _rate(seconds, WRITERS, one)
            print(f"{label:<48} {rate:>10,.0f} {unit}")

        async with sessionmaker() as session:
            agency = Agency(code="BENCH", name="Bench", kind="social_affairs", province_code="40")
            session.add(agency)
            await session.flush()
            admin = User(
                username="bench.admin",
                password_hash=hash_password("the right passphrase"),
                full_name="Bench",
                role="agency_admin",
                agency_id=agency.id,
            )
            session.add(admin)
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            token = await client.post(
                "/api/v1/auth/token",
                data={
                    "grant_type": "password",
                    "username": "bench.admin",
                    "password": "the right passphrase",
                },
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

            async def request() -> None:
                response = await client.get(f"/api/v1/users/{admin.id}", headers=headers)
                assert response.status_code == 200

            rate = await _rate(seconds, WRITERS, request)
            lag = await _unsealed(sessionmaker)
            print(f"{'audited API reads (sealer running)':<48} {rate:>10,.0f} requests/s")
            print(f"{'  unsealed events when the load stopped':<48} {lag:>10,}")

        # A backlog sealed in one go, then verified from the start.
        async with sessionmaker() as session:
            await session.execute(
                text(
                    "INSERT INTO audit_events (occurred_at, actor_type, action, resource_type, "
                    "resource_id, fields, outcome) SELECT now(), 'system', 'bench.backlog', "
                    "'bench', g::text, ARRAY['full_name'], 'success' "
                    "FROM generate_series(1, :n) g"
                ),
                {"n": backlog},
            )
            await session.commit()
        started = time.perf_counter()
        await seal_round(sessionmaker, app.state.keys, wait=True, checkpoint_interval=None)
        sealed_rate = backlog / (time.perf_counter() - started)
        async with sessionmaker() as session:
            total = (await session.execute(text("SELECT count(*) FROM audit_seals"))).scalar_one()
            await seal(session)  # nothing left; warms the plan cache
            started = time.perf_counter()
            report = await verify(session, app.state.keys)
            verify_rate = report.checked / (time.perf_counter() - started)
        assert report.ok and report.checked == total, report
        sealing = f"sealing a backlog of {backlog:,} events"
        verifying = f"verifying the chain ({total:,} events)"
        print(f"{sealing:<48} {sealed_rate:>10,.0f} events/s")
        print(f"{verifying:<48} {verify_rate:>10,.0f} events/s")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    backlog = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    folder = Path(tempfile.mkdtemp(prefix="vcm-audit-bench-"))
    server = EmbeddedPostgres(folder, delete_on_stop=True)
    try:
        server.start("postgres")
        url = server.create_database("vcm_bench")
        migrate.upgrade(url)
        asyncio.run(measure(url, folder / "data", seconds, backlog))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
