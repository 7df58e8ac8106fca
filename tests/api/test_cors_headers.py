"""CORS exposes every response header the app sets that a client reads, so a browser
client (the console, another agency's web tool) can read ETags, Location, the CTDC
export's suppression counts and an idempotent replay's flag."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.http import ALLOWED_REQUEST_HEADERS, EXPOSED_HEADERS
from app.main import create_app

ORIGIN = "https://console.vcm.example.gov.vn"
APP_DIR = Path(__file__).resolve().parents[2] / "app"

# Header-shaped names in the code that are not response headers to a client: the
# webhook deliveries' request headers, a client's user agent, an ethnicity's name, a
# date format.
_NOT_RESPONSE_HEADERS = {
    "User-Agent",
    "Webhook-Id",
    "Webhook-Signature",
    "Webhook-Timestamp",
    "Gie-Trieng",
    "MM-DD",
}
# A browser shows these to scripts without CORS exposing them.
_SAFELISTED = {
    "Cache-Control",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "Expires",
    "Last-Modified",
    "Pragma",
}


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(VCM_ENV="dev", VCM_CORS_ORIGINS=ORIGIN)  # type: ignore[call-arg]
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _exposed(response: httpx.Response) -> set[str]:
    listed = response.headers.get("access-control-expose-headers", "")
    return {name.strip().lower() for name in listed.split(",") if name.strip()}


@pytest.mark.parametrize(
    "header",
    [
        "ETag",
        "Location",
        "Retry-After",
        "X-Request-Id",
        "X-Suppressed-Rows",
        "X-Generalisation",
        "Content-Disposition",
        "Idempotent-Replayed",
    ],
)
async def test_a_cross_origin_answer_exposes_the_custom_headers(
    browser: httpx.AsyncClient, header: str
) -> None:
    response = await browser.get("/health", headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert header.lower() in _exposed(response)


async def test_a_preflight_allows_the_request_headers(browser: httpx.AsyncClient) -> None:
    response = await browser.options(
        "/api/v1/cases/00000000-0000-0000-0000-000000000000",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, If-Match, X-Purpose-Of-Use",
        },
    )
    assert response.status_code == 200, response.text
    allowed = response.headers["access-control-allow-headers"].lower()
    for name in ("authorization", "if-match", "x-purpose-of-use"):
        assert name in allowed


def test_every_header_the_code_names_is_exposed_or_a_request_header() -> None:
    """A header added to an answer anywhere in app/ must be listed in EXPOSED_HEADERS
    (or be a request header, or one a browser shows anyway)."""
    pattern = re.compile(r"\"([A-Z][A-Za-z0-9]*(?:-[A-Z][A-Za-z0-9]*)+|ETag)\"")
    named = {
        match
        for path in APP_DIR.rglob("*.py")
        for match in pattern.findall(path.read_text(encoding="utf-8"))
    }
    known = (
        set(EXPOSED_HEADERS) | set(ALLOWED_REQUEST_HEADERS) | _SAFELISTED | _NOT_RESPONSE_HEADERS
    )
    assert not sorted(named - known), "add these to app.http.EXPOSED_HEADERS (or explain)"
