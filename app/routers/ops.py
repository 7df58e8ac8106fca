"""Operations: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.db import TransactionRoute
from app.migrate import current_revision, head_revision

router = APIRouter(route_class=TransactionRoute, tags=["operations"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up (no dependencies checked)."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "Not ready"}})
async def ready(request: Request) -> JSONResponse:
    """Ready to serve: database reachable, schema at the migrations' head, key ring loaded."""
    checks: dict[str, str] = {}
    engine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current = await current_revision(engine)
        checks["migrations"] = "ok" if current == head_revision() else "behind"
    except Exception:
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    checks["keyring"] = "ok" if getattr(request.app.state, "keys", None) is not None else "missing"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus text exposition (request counts and latency by route template)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
