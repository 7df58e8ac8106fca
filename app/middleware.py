"""ASGI middleware: request id, access log, metrics, body limit, security headers.

Pure ASGI (not BaseHTTPMiddleware) so streaming bodies and exceptions pass through
untouched and the per-request overhead stays small.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Sequence

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import prefers_english
from app.logging import request_id_var
from app.security.proxies import Network, client_address

log = logging.getLogger("vcm.access")

REQUESTS = Counter(
    "vcm_http_requests_total", "HTTP requests by route template", ["method", "route", "status"]
)
LATENCY = Histogram(
    "vcm_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

# A request id the client sends is kept (echoed, logged, audited) only if it is a short
# token of safe characters that cannot be a person's number: not all digits, no run of
# nine or more digits (identity card and citizen ID numbers, phone numbers), and not
# shaped like a passport number (a letter or two, then seven or eight digits). A UUID
# in its canonical form is kept whatever digits chance put in it (3 % of random ones
# have nine in a row), as clients commonly send them.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_PERSONAL_NUMBER = re.compile(r"^[0-9._-]*$|[0-9]{9}|^[A-Za-z]{1,2}[0-9]{7,8}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def accepted_request_id(value: str) -> str | None:
    """`value` when it may serve as the request id, else None (a new one is made)."""
    if _UUID.match(value) and not value.replace("-", "").isdigit():
        return value
    if _REQUEST_ID.match(value) and not _PERSONAL_NUMBER.search(value):
        return value
    return None


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
]
DOCS_ROUTES = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
# The interactive docs load their own scripts and styles; they get a looser policy.
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    b"https://fastapi.tiangolo.com; frame-ancestors 'none'"
)


# Hex digits written as letters: a generated id has no digits, so it passes
# `accepted_request_id` when a client sends it back or on to another service.
_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


class _RequestIds:
    """Request ids: a random prefix per process and a counter (32 letters a-p: hex with
    the digits spelled as letters), unique without a random draw per request. A forked
    child draws its own prefix."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count()

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}".translate(_AS_LETTERS)


new_request_id = _RequestIds()


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/v1/users/{user_id}`), never the raw path,
    so metrics have bounded labels and logs carry no ids typed into URLs. The router
    records the matched route in the scope."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, trusted_proxies: Sequence[Network] = ()
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = accepted_request_id(incoming) or new_request_id()
        token = request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        peer = scope.get("client")
        forwarded = [
            v.decode("latin-1") for k, v in scope.get("headers") or [] if k == b"x-forwarded-for"
        ]
        state["client_address"] = client_address(
            peer[0] if peer else None, forwarded, self.trusted_proxies
        )[:64]
        started = time.perf_counter()
        status_holder = {"status": 500}

        rejected = False
        seen = 0

        async def send_wrapper(message: Message) -> None:
            if rejected and not message.get("vcm_limit"):
                return  # the 413 has been sent; the app's late answer is dropped
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                is_docs = route_template(scope) in DOCS_ROUTES
                extra = [(b"x-request-id", request_id.encode())]
                for name, value in SECURITY_HEADERS:
                    if is_docs and name in (b"content-security-policy", b"cache-control"):
                        continue
                    extra.append((name, value))
                if is_docs:
                    extra.append((b"content-security-policy", DOCS_CSP))
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        async def limited_receive() -> Message:
            """Count streamed body bytes: a chunked body without Content-Length is capped
            too. Past the limit the client gets 413 and the app sees a disconnect."""
            nonlocal seen, rejected
            message = await receive()
            if message["type"] == "http.request" and not rejected:
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    await _reject_too_large(scope, send_wrapper, request_id)
                    rejected = True
                    return {"type": "http.disconnect"}
            return message

        try:
            declared = headers.get(b"content-length")
            if declared is not None and _too_large(declared, self.max_body_bytes):
                await _reject_too_large(scope, send_wrapper, request_id)
                return
            await self.app(scope, limited_receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            status = status_holder["status"]
            template = route_template(scope)
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


def _too_large(declared: bytes, limit: int) -> bool:
    try:
        return int(declared) > limit
    except ValueError:
        return True


async def _reject_too_large(scope: Scope, send: Send, request_id: str) -> None:
    headers = dict(scope.get("headers") or [])
    english = prefers_english(headers.get(b"accept-language", b"").decode("latin-1"))
    body = {
        "type": "https://vcm.gov.vn/problems/payload-too-large",
        "title": "Request body too large" if english else "Dữ liệu gửi lên quá lớn",
        "status": 413,
        "detail": "The request body exceeds the size limit.",
        "instance": scope.get("path", ""),
        "request_id": request_id,
    }
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "vcm_limit": True,
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload, "vcm_limit": True})
