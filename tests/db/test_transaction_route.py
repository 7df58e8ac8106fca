"""Every route runs in one session and one transaction (`app.db.TransactionRoute`);
a route that is not one cannot get a session at all, rather than one nobody commits."""

from __future__ import annotations

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import SessionDep, TransactionRoute, make_sessionmaker
from app.main import create_app


def test_every_api_route_is_a_transaction_route() -> None:
    app = create_app(Settings(VCM_ENV="dev"))  # type: ignore[call-arg]
    routes = [
        c.original_route
        for c in iter_route_contexts(app.routes)
        if isinstance(c.original_route, APIRoute)
    ]
    assert len(routes) > 40
    plain = [r.path for r in routes if not isinstance(r, TransactionRoute)]
    assert plain == []


async def test_a_plain_route_cannot_have_a_session(engine: AsyncEngine) -> None:
    app = create_app(Settings(VCM_ENV="dev"))  # type: ignore[call-arg]
    app.state.sessionmaker = make_sessionmaker(engine)  # a session could be made
    path = "/test/plain-route-with-session"
    app.router.add_api_route(path, _uses_session, methods=["GET"], route_class_override=APIRoute)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(path)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"


async def _uses_session(session: SessionDep) -> dict[str, str]:
    return {"never": "reached"}
