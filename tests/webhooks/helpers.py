"""Helpers for the webhook tests: a real local HTTP receiver, registration through the
API, and an independent Standard Webhooks verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.config import Settings
from tests.conftest import Actor, World

WEBHOOKS = "/api/v1/webhooks"
# A literal public address: registration resolves nothing and connects nowhere.
PUBLIC_URL = "https://1.1.1.1/vcm-hooks"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of `statuses` (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        return f"http://{host}:{self.port}{path}"


@contextmanager
def receiver(*statuses: int) -> Iterator[Receiver]:
    state = Receiver(statuses=list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks verification, written from the spec (not the app's code)."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    given = [
        s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, g) for g in given)


def private_ok(app: FastAPI) -> Settings:
    """The app's settings with VCM_WEBHOOK_ALLOW_PRIVATE on (a 127.0.0.1 receiver)."""
    settings: Settings = app.state.settings
    return settings.model_copy(update={"webhook_allow_private": True})


async def register(
    world: World, admin: Actor, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    response = await world.client.post(
        WEBHOOKS,
        json={"url": url, "events": events or ["referral.created"], "description": "CRM (test)"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@contextmanager
def app_settings(app: FastAPI, **changes: Any) -> Iterator[Settings]:
    """The app answers with `changes` applied to its settings for the block."""
    original: Settings = app.state.settings
    changed = original.model_copy(update=changes)
    app.state.settings = changed
    try:
        yield changed
    finally:
        app.state.settings = original


def verified(secret: str, got: Received) -> dict[str, Any]:
    """The delivery's payload as a receiver reads it: checked with the Standard Webhooks
    project's own library (signature and timestamp), else WebhookVerificationError."""
    payload: dict[str, Any] = Webhook(secret).verify(got.body, got.headers)
    return payload


def assert_tampering_fails(secret: str, got: Received) -> None:
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(got.body.replace(b'"data"', b'"data" '), got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(got.body, {**got.headers, "webhook-id": "msg_other"})
