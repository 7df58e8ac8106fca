"""/health, /ready, /metrics, and the JSON log lines."""

from __future__ import annotations

import io
import json
import logging

from fastapi import FastAPI

from app.logging import JsonFormatter
from app.security.permissions import Role
from tests.conftest import World


async def test_health_and_ready(world: World) -> None:
    assert (await world.client.get("/health")).json() == {"status": "ok"}
    ready = await world.client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "keyring": "ok"}


async def test_metrics_by_route_template(world: World) -> None:
    actor = await world.user(Role.CASE_WORKER)
    await world.client.get(f"/api/v1/agencies/{actor.agency.id}", headers=actor.headers)
    text = (await world.client.get("/metrics")).text
    assert 'route="/api/v1/agencies/{agency_id}"' in text
    assert str(actor.agency.id) not in text
    assert "vcm_http_request_duration_seconds_bucket" in text


async def test_security_headers(world: World) -> None:
    r = await world.client.get("/health")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in r.headers["content-security-policy"]


async def test_log_lines_are_json_with_request_id_and_no_secrets(
    app: FastAPI, world: World
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        actor = await world.user(Role.AGENCY_ADMIN)
        token = actor.headers["Authorization"].split()[1]
        await world.client.get(
            "/api/v1/users", params={"national_id": "079123456789"}, headers=actor.headers
        )
        await world.client.post(
            "/api/v1/users",
            json={
                "username": "bi.mat",
                "password": "Nguyễn Thị Bí Mật",
                "full_name": "x",
                "role": "x",
            },
            headers={**actor.headers, "X-Request-Id": "req-12345678"},
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    # The test's own HTTP client logs its URLs (the app silences httpx, see
    # app.logging.configure); only the server's lines are under test.
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    lines = [line for line in lines if not line["logger"].startswith("httpx")]
    output = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    access = [line for line in lines if line["logger"] == "vcm.access"]
    assert access and all(line["request_id"] for line in access)
    assert any(line["request_id"] == "req-12345678" for line in access)
    assert {line["route"] for line in access} >= {"/api/v1/users", "/api/v1/auth/token"}
    for secret in ("079123456789", "Bí Mật", token, actor.password):
        assert secret not in output
