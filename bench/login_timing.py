"""Unknown user and wrong password must answer in similar time (no user enumeration
by timing). Prints the mean and spread of each over N attempts, in process against an
embedded PostgreSQL.

    .venv/bin/python bench/login_timing.py [attempts]
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from app import migrate
from app.config import Settings
from app.embedded import EmbeddedPostgres
from app.main import create_app
from app.models import Agency, User
from app.security.passwords import hash_password


async def measure(url: str, data_dir: Path, attempts: int) -> None:
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=url,
        VCM_DATA_DIR=data_dir,
        VCM_LOGIN_MAX_FAILURES=10_000,
        VCM_LOGIN_MAX_FAILURES_PER_ADDRESS=10_000,
        VCM_LOG_LEVEL="WARNING",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.sessionmaker() as session:
            agency = Agency(code="BENCH", name="Bench", kind="national")
            session.add(agency)
            await session.flush()
            session.add(
                User(
                    username="bench.user",
                    password_hash=hash_password("the right passphrase"),
                    full_name="Bench",
                    role="case_worker",
                    agency_id=agency.id,
                )
            )
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def attempt(username: str) -> float:
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/auth/token",
                    data={"grant_type": "password", "username": username, "password": "wrong"},
                )
                assert response.status_code == 401, response.status_code
                return (time.perf_counter() - started) * 1000

            await attempt("warm-up")
            results: dict[str, list[float]] = {"unknown user": [], "wrong password": []}
            for _ in range(attempts):
                results["unknown user"].append(await attempt("nobody.here"))
                results["wrong password"].append(await attempt("bench.user"))
    print(f"login failure timing over {attempts} attempts each (ms)")
    for name, samples in results.items():
        print(
            f"  {name:<15} mean {statistics.mean(samples):7.2f}  "
            f"median {statistics.median(samples):7.2f}  stdev {statistics.stdev(samples):6.2f}"
        )
    unknown = statistics.median(results["unknown user"])
    wrong = statistics.median(results["wrong password"])
    print(f"  median difference {abs(unknown - wrong):.2f} ms ({abs(unknown - wrong) / wrong:.1%})")


def main() -> None:
    attempts = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    folder = Path(tempfile.mkdtemp(prefix="vcm-bench-"))
    server = EmbeddedPostgres(folder, delete_on_stop=True)
    try:
        url = server.start("bench")
        migrate.upgrade(url)
        asyncio.run(measure(url, folder, attempts))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
