"""Registering integration clients and getting their tokens, for the tests."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import quote_plus

import httpx

from app.security.permissions import Role
from tests.conftest import Actor, World

CLIENTS = "/api/v1/integration-clients"
TOKEN = "/api/v1/auth/token"


@dataclass
class Registered:
    client_id: str
    secret: str
    admin: Actor
    body: dict[str, object]


async def register(
    world: World,
    scopes: tuple[str, ...] = ("cases:read",),
    *,
    admin: Actor | None = None,
    name: str = "Hệ thống quản lý ca tỉnh (test)",
) -> Registered:
    """A client registered through the API by an agency admin (made when not given)."""
    admin = admin or await world.user(Role.AGENCY_ADMIN)
    response = await world.client.post(
        CLIENTS, json={"name": name, "scopes": list(scopes)}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Registered(body["client_id"], body["client_secret"], admin, body)


def basic(client_id: str, secret: str) -> dict[str, str]:
    # RFC 6749 2.3.1: form-urlencode each part, then Basic-encode "id:secret".
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def client_token(
    world: World,
    client_id: str,
    secret: str,
    *,
    scope: str | None = None,
    use_basic: bool = False,
    address: str = "10.9.0.1",
) -> httpx.Response:
    data = {"grant_type": "client_credentials"}
    headers = {"X-Forwarded-For": address}
    if use_basic:
        headers.update(basic(client_id, secret))
    else:
        data.update(client_id=client_id, client_secret=secret)
    if scope is not None:
        data["scope"] = scope
    return await world.client.post(TOKEN, data=data, headers=headers)


async def client_headers(world: World, registered: Registered, scope: str | None = None) -> dict:
    response = await client_token(world, registered.client_id, registered.secret, scope=scope)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
