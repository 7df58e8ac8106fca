"""Operations: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.db import TransactionRoute
from app.deps import Credentials, require_permission
from app.migrate import current_revision, head_revision
from app.schemas.common import problem_responses
from app.security.permissions import Permission

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


async def metrics_reader(request: Request, credentials: Credentials) -> None:
    """In production the metrics answer only a bearer token holding `metrics:read` (an
    integration client's: Prometheus fetches it with its `oauth2` client-credentials
    settings); elsewhere anyone on the network may scrape them."""
    if request.app.state.settings.is_production:
        await require_permission(request, credentials, Permission.METRICS_READ)


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(metrics_reader)],
    responses=problem_responses(401, 403),
)
async def metrics() -> Response:
    """Prometheus text exposition (request counts and latency by route template). In
    production: a bearer token with the `metrics:read` scope."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
