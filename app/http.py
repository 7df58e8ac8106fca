"""HTTP manners shared by the routes: where a created resource is read (`Location`),
and the headers a browser client may send and read (CORS)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import FastAPI, Request, Response

# The request headers a browser client may send (CORS preflight).
ALLOWED_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "X-Purpose-Of-Use",
    "X-Request-Id",
    "Accept-Language",
]

# Every response header the app sets that a client reads beyond the CORS-safelisted
# ones (Cache-Control, Content-Type, ...): CORS exposes exactly these, a browser hides
# any other from scripts. A route adding a custom header adds it here (a test scans
# the code for header names).
EXPOSED_HEADERS = [
    "ETag",
    "Location",
    "Retry-After",
    "X-Request-Id",
    "WWW-Authenticate",
    "Idempotent-Replayed",
    "Content-Disposition",
    "X-Suppressed-Rows",
    "X-Generalisation",
    "X-Released-Rows",
    "X-K-Anonymity",
]


def _readable(app: FastAPI) -> list[re.Pattern[str]]:
    """The path templates the app answers GET on, as patterns; built once per app."""
    known: list[re.Pattern[str]] | None = getattr(app.state, "readable_paths", None)
    if known is None:
        known = [
            re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
            for template, operations in app.openapi().get("paths", {}).items()
            if "get" in operations
        ]
        app.state.readable_paths = known
    return known


def location_of(request: Request, resource_id: uuid.UUID | str | None) -> str | None:
    """Where a resource created by this POST is read: `<path>/<id>` if the app serves
    a GET there, else the collection `<path>` it was posted to, else nowhere."""
    app: Any = request.scope.get("app")
    if app is None:
        return None
    path = request.url.path
    candidates = [path] if resource_id is None else [f"{path}/{resource_id}", path]
    readable = _readable(app)
    for candidate in candidates:
        if any(pattern.match(candidate) for pattern in readable):
            return candidate
    return None


def set_location(
    request: Request,
    response: Response,
    resource_id: uuid.UUID | str | None,
    *,
    location: str | None = None,
) -> None:
    """`Location` on a create's answer: `location` when the route knows better (a
    filtered list, the case a grant opens), else `location_of`."""
    where = location or location_of(request, resource_id)
    if where is not None:
        response.headers["Location"] = where
