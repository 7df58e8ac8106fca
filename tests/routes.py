"""The app's routes as (method, path) pairs, for tests that must cover every route."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every API route, through included routers on any FastAPI."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.16x
    except ImportError:  # pragma: no cover - older FastAPI lists routes flat
        return {
            (m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in sorted(r.methods)
        }
    found = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path:
            found.update((method, context.path) for method in route.methods)
    return found
