"""Searching another agency's person by national ID must take what searching an absent
ID takes (no existence leak by timing). In process against an embedded PostgreSQL:
two agencies each take in `--cases` victims through the API, then one agency's case
worker searches, interleaved, an absent ID, an ID of the other agency's victim and an
ID of their own victim; prints the median and p90 of each (ms) and the differences.

    .venv/bin/python bench/search_timing.py [--requests 600] [--cases 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from app import migrate
from app.config import Settings
from app.embedded import EmbeddedPostgres
from app.main import create_app
from app.models import Agency, User
from app.security.passwords import hash_password

KINDS = ("absent", "other agency", "own")


def _national_id(rng: random.Random) -> str:
    return "0" + "".join(rng.choice("0123456789") for _ in range(10)) + "1"


def _intake(national_id: str, rng: random.Random) -> dict[str, Any]:
    """A made-up victim (random digits for a name: nothing here is a real person)."""
    return {
        "intake_source": "police_rescue",
        "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "received_location": {"province_code": "40", "commune_code": "16681"},
        "victim": {
            "full_name": f"Bench Person {rng.randrange(10**6)}",
            "sex": "female",
            "nationality": "VN",
            "date_of_birth": "1998-04-12",
            "national_id": national_id,
            "phone": "09" + "".join(rng.choice("0123456789") for _ in range(8)),
        },
        "exploitation_types": ["forced_labour"],
        "destination_country": "CN",
    }


async def _worker(app: Any, client: httpx.AsyncClient, code: str) -> dict[str, str]:
    """A case worker of a new social affairs agency in province 40; their headers."""
    password = f"pw-{uuid.uuid4().hex}"
    async with app.state.sessionmaker() as session:
        agency = Agency(code=code, name=code, kind="social_affairs", province_code="40")
        session.add(agency)
        await session.flush()
        user = User(
            username=code.lower(),
            password_hash=hash_password(password),
            full_name=code,
            role="case_worker",
            agency_id=agency.id,
        )
        session.add(user)
        await session.commit()
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": code.lower(), "password": password},
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[-1]


async def measure(url: str, data_dir: Path, requests: int, cases: int) -> None:
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=url, VCM_DATA_DIR=data_dir, VCM_LOG_LEVEL="WARNING"
    )
    app = create_app(settings)
    rng = random.Random(19)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            mine = await _worker(app, client, "BENCH-OWN")
            theirs = await _worker(app, client, "BENCH-OTHER")
            ids: dict[str, list[str]] = {"own": [], "other agency": []}
            for who, headers in (("own", mine), ("other agency", theirs)):
                for _ in range(cases):
                    national_id = _national_id(rng)
                    response = await client.post(
                        "/api/v1/cases", json=_intake(national_id, rng), headers=headers
                    )
                    assert response.status_code == 201, response.text
                    ids[who].append(national_id)

            async def search(national_id: str) -> float:
                started = time.perf_counter()
                response = await client.get(
                    "/api/v1/cases/search", params={"national_id": national_id}, headers=mine
                )
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text
                return elapsed

            def query(kind: str) -> str:
                return _national_id(rng) if kind == "absent" else rng.choice(ids[kind])

            for kind in KINDS * 20:  # warm-up: statements prepared, caches filled
                await search(query(kind))
            results: dict[str, list[float]] = {kind: [] for kind in KINDS}
            for _ in range(requests):
                order = list(KINDS)
                rng.shuffle(order)  # interleaved, so drift hits every kind alike
                for kind in order:
                    results[kind].append(await search(query(kind)))
    print(
        f"GET /cases/search?national_id=, {requests} requests each, {cases} cases per agency (ms)"
    )
    for kind, samples in results.items():
        print(f"  {kind:<13} median {statistics.median(samples):6.3f}  p90 {_p90(samples):6.3f}")
    absent, other = results["absent"], results["other agency"]
    median = statistics.median(other) - statistics.median(absent)
    print(f"  other agency - absent: median {median:+.3f}  p90 {_p90(other) - _p90(absent):+.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--cases", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vcm-bench-"))
    server = EmbeddedPostgres(folder, delete_on_stop=True)
    try:
        url = server.start("bench")
        migrate.upgrade(url)
        asyncio.run(measure(url, folder, args.requests, args.cases))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
