"""Every error is RFC 9457 problem+json, titled in Vietnamese or English."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.errors import Conflict, prefers_english
from app.main import create_app
from app.security.permissions import Role
from tests.conftest import World, assert_problem


@pytest.mark.parametrize(
    ("header", "english"),
    [
        (None, False),
        ("vi", False),
        ("en", True),
        ("en-US,en;q=0.9", True),
        ("vi-VN,vi;q=0.9,en;q=0.8", False),
        ("fr, en;q=0.5", True),
        ("en;q=0.2, vi;q=0.8", False),
        ("en;q=0", False),
        ("garbage;q=x", False),
    ],
)
def test_language_negotiation(header: str | None, english: bool) -> None:
    assert prefers_english(header) is english


class TestProblemShapes:
    async def test_401(self, world: World) -> None:
        body = assert_problem(await world.client.get("/api/v1/users"), 401)
        assert body["title"] == "Cần xác thực"

    async def test_404_unknown_route_in_english(self, world: World) -> None:
        r = await world.client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
        body = assert_problem(r, 404)
        assert body["title"] == "Not found"
        assert r.headers["content-language"] == "en"

    async def test_405(self, world: World) -> None:
        assert_problem(await world.client.delete("/api/v1/agencies"), 405)

    async def test_422_lists_fields_without_echoing_input(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        secret_value = "Nguyễn Thị Bí Mật"
        r = await world.client.post(
            "/api/v1/users",
            json={"username": secret_value, "password": 5, "role": "pope"},
            headers=admin.headers,
        )
        body = assert_problem(r, 422)
        fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
        assert {"username", "role", "full_name"} <= fields
        assert secret_value not in r.text

    async def test_422_malformed_json(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        r = await world.client.post(
            "/api/v1/users",
            content=b"{not json",
            headers={**admin.headers, "Content-Type": "application/json"},
        )
        assert_problem(r, 422)

    async def test_409_412_428(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        worker = await world.user(Role.CASE_WORKER, admin.agency, login=False)
        url = f"/api/v1/users/{worker.id}"
        assert_problem(await world.client.patch(url, json={}, headers=admin.headers), 428)
        stale = {**admin.headers, "If-Match": '"99"'}
        assert_problem(await world.client.patch(url, json={}, headers=stale), 412)
        dup = {
            "username": worker.user.username,
            "password": "long enough passphrase",
            "full_name": "A",
            "role": "case_worker",
        }
        assert_problem(
            await world.client.post("/api/v1/users", json=dup, headers=admin.headers), 409
        )

    async def test_429(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        for _ in range(5):
            await world.token(actor.user.username, "wrong-password")
        r = await world.token(actor.user.username, "wrong-password")
        assert_problem(r, 429)
        assert int(r.headers["retry-after"]) > 0

    async def test_413_declared_and_streamed(self, app: FastAPI, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        big = b'{"x": "' + b"a" * (app.state.settings.max_body_bytes + 10) + b'"}'
        r = await world.client.post(
            "/api/v1/users",
            content=big,
            headers={**admin.headers, "Content-Type": "application/json"},
        )
        assert_problem(r, 413)

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(20):
                yield b"a" * 65536

        r = await world.client.post(
            "/api/v1/users",
            content=chunks(),
            headers={**admin.headers, "Content-Type": "application/json"},
        )
        assert_problem(r, 413)


async def test_500_says_nothing_about_internals(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail: Nguyễn Văn A")

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict()

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with caplog.at_level(logging.ERROR):
            r = await client.get("/boom", headers={"Accept-Language": "en"})
        body = assert_problem(r, 500)
        assert body["title"] == "Internal server error"
        assert "secret" not in r.text and "RuntimeError" not in r.text
        assert_problem(await client.get("/conflict"), 409)


async def test_request_id_is_echoed_and_generated(world: World) -> None:
    mine = str(uuid.uuid4())
    r = await world.client.get("/health", headers={"X-Request-Id": mine})
    assert r.headers["x-request-id"] == mine
    r = await world.client.get("/health", headers={"X-Request-Id": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"
    generated = {(await world.client.get("/health")).headers["x-request-id"] for _ in range(3)}
    assert len(generated) == 3
    # Hex with the digits spelled as letters: no digits, so never mistaken for an ID.
    assert all(len(g) == 32 and set(g) <= set("abcdefghijklmnop") for g in generated)
