"""The floor to compare the service with: bare Starlette + asyncpg doing a case read's
SQL and nothing else (no authentication, no decryption, no ORM, no middleware).

    BASELINE_DATABASE_URL=postgresql://... python -m bench.baseline --port 8001 --workers 2

Served like the service (`app.serve.run`, as `vcm serve` does: a SO_REUSEPORT socket
per worker, startup frozen out of the garbage collector), so that the comparison is of
the application, not of the serving. (Under uvicorn's own `--workers` it answered 8 to
15 % fewer requests a second, measured.)

`GET /cases/{id}`: in one transaction, select the case by primary key and insert one
audit event (the columns `app.audit.writer.record` fills for a case read), then answer
the row as JSON. bench/load.py starts it and drives it like the service's reads.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SELECT_CASE = "SELECT * FROM cases WHERE id = $1"
INSERT_AUDIT = (
    "INSERT INTO audit_events (actor_type, actor_id, actor_agency_id, actor_role, token_id, "
    "client_address, request_id, action, resource_type, resource_id, person_id, fields, "
    "purpose, emergency, outcome, reason) "
    "VALUES ('user', $1, $2, 'case_worker', $3, $4, $5, 'case.read', 'case', $6, $7, "
    "'{}', NULL, false, 'success', NULL)"
)
# A fixed made-up actor: the baseline does no authentication.
ACTOR = uuid.UUID("00000000-0000-4000-8000-00000000b001")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    url = os.environ["BASELINE_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    pool_size = int(os.environ.get("VCM_DB_POOL_SIZE", "10"))
    app.state.pool = await asyncpg.create_pool(url, min_size=pool_size, max_size=2 * pool_size)
    yield
    await app.state.pool.close()


async def read_case(request: Request) -> Response:
    try:
        case_id = uuid.UUID(request.path_params["case_id"])
    except ValueError:
        return Response(status_code=404)
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(SELECT_CASE, case_id)
        if row is None:
            return Response(status_code=404)
        await conn.execute(
            INSERT_AUDIT,
            ACTOR,
            row["owner_agency_id"],
            uuid.uuid4().hex,
            request.client.host if request.client else None,
            uuid.uuid4().hex,
            str(case_id),
            row["victim_person_id"],
        )
    body = json.dumps(dict(row), default=str)
    return Response(body, media_type="application/json")


async def health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(
    routes=[Route("/cases/{case_id}", read_case), Route("/health", health)],
    lifespan=lifespan,
)


def main() -> None:
    import uvicorn

    from app import serve

    parser = argparse.ArgumentParser(description="bench/baseline.py under vcm's serving")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = uvicorn.Config(
        "bench.baseline:app",
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        server_header=False,
    )
    serve.run(config, args.workers, "WARNING")


if __name__ == "__main__":
    main()
