"""The client address behind reverse proxies (app/security/proxies.py) and the request
id a client may send (app/middleware.py).

A client controls every `X-Forwarded-For` entry left of those our proxies append, so
the address is taken from the right, past trusted proxies only: a client can neither
dodge the login throttle nor put an address of its choosing in the audit trail.
"""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.logging import JsonFormatter
from app.middleware import accepted_request_id
from app.security.permissions import Role
from app.security.proxies import client_address, parse_networks
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World

PROXIES = parse_networks(["127.0.0.1/32", "10.0.0.0/8", "2001:db8:1::/48"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # No proxy in front: the header is the client's own words and is ignored.
        ("198.51.100.7", ["6.6.6.6"], "198.51.100.7"),
        # One proxy: the entry it appended, not the client's chosen left-most one.
        ("127.0.0.1", ["6.6.6.6, 203.0.113.9"], "203.0.113.9"),
        # Two proxies in a row, the second header line included.
        ("127.0.0.1", ["6.6.6.6, 203.0.113.9", "10.1.2.3"], "203.0.113.9"),
        ("10.0.0.2", ["1.1.1.1, 8.8.8.8, 10.7.7.7"], "8.8.8.8"),
        # Garbage where a proxy's entry should be: the walk stops at the proxy.
        ("127.0.0.1", ["203.0.113.9, not-an-address"], "127.0.0.1"),
        # Only proxies: the left-most of them.
        ("127.0.0.1", ["10.3.3.3, 10.2.2.2"], "10.3.3.3"),
        ("127.0.0.1", [], "127.0.0.1"),
        # Ports and brackets as some proxies write them; IPv6 proxies.
        ("127.0.0.1", ["203.0.113.9:51234"], "203.0.113.9"),
        ("2001:db8:1::5", ["[2001:db8:2::9]:443"], "2001:db8:2::9"),
        ("::ffff:127.0.0.1", ["203.0.113.9"], "203.0.113.9"),
    ],
)
def test_client_is_the_right_most_untrusted_hop(
    peer: str, forwarded: list[str], expected: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address("127.0.0.1", ["6.6.6.6"], ()) == "127.0.0.1"


def test_proxies_are_cidr_blocks() -> None:
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.0/33"])
    with pytest.raises(ValueError):
        parse_networks(["proxy.internal"])


async def test_audit_row_carries_the_address_the_proxy_saw(
    world: World, engine: AsyncEngine
) -> None:
    """The test client's socket peer (127.0.0.1) is the trusted proxy (tests/conftest.py)."""
    admin = await world.user(Role.AGENCY_ADMIN)
    mark = await last_event_id(engine)
    response = await world.client.get(
        f"/api/v1/users/{admin.id}",
        headers={**admin.headers, "X-Forwarded-For": "6.6.6.6, 10.1.2.3"},
    )
    assert response.status_code == 200
    (event,) = await events_after(engine, mark)
    assert event["client_address"] == "10.1.2.3"


async def test_a_forged_left_most_entry_does_not_dodge_the_address_limit(
    app: FastAPI, world: World
) -> None:
    """One address spraying many accounts is limited, whatever it writes before the
    entry our proxy appends."""
    for i in range(app.state.settings.login_max_failures_per_address):
        forged = f"198.51.100.{i}, 10.6.6.6"
        assert (await world.token(f"sprayed-{i}", "wrong-password", forged)).status_code == 401
    actor = await world.user(Role.CASE_WORKER, login=False)
    throttled = await world.token(actor.user.username, actor.password, "192.0.2.77, 10.6.6.6")
    assert throttled.status_code == 429


# A 12-digit citizen identity number (căn cước) and a 9-digit identity card number.
NATIONAL_IDS = ["001203004567", "012345678"]


@pytest.mark.parametrize(
    "sent",
    [
        *NATIONAL_IDS,
        "cccd-001203004567",  # an ID number inside an otherwise safe token
        "B1234567",  # shaped like a passport number
        "0912345678",  # a mobile number
        # Shaped like a UUID, digits only: an ID number could hide in it.
        "00000000-0000-0000-0000-001203004567",
        "12345678",  # all digits
        "short",
        "has space in it",
        "x" * 65,
        "Nguyễn-Văn-A-1990",
        "../../etc/passwd",
    ],
)
async def test_unsafe_request_ids_are_replaced(world: World, sent: str) -> None:
    response = await world.client.get("/health", headers={"X-Request-ID": sent.encode()})
    returned = response.headers["x-request-id"]
    assert returned != sent and len(returned) == 32 and returned.isalpha()


@pytest.mark.parametrize(
    "sent",
    [
        "req-12345678",
        "3f2b8c1e-9a4d-4e6f-b7c2-5d8e1f0a9b3c",
        # A canonical UUID is kept whatever digits chance put in it.
        "0f8fad5b-d9cb-469f-a165-70867728950e",
    ],
)
async def test_safe_request_ids_are_kept(world: World, sent: str) -> None:
    response = await world.client.get("/health", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] == sent


async def test_generated_request_ids_pass_the_same_rule(world: World) -> None:
    generated = (await world.client.get("/health")).headers["x-request-id"]
    assert accepted_request_id(generated) == generated
    assert (await world.client.get("/health", headers={"X-Request-ID": generated})).headers[
        "x-request-id"
    ] == generated


class _Lines(logging.Handler):
    """The access log's lines as the JSON formatter writes them (request id included)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_a_national_id_as_request_id_reaches_neither_audit_nor_log(
    world: World, engine: AsyncEngine
) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    mark = await last_event_id(engine)
    access = logging.getLogger("vcm.access")
    handler, level = _Lines(), access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        for national_id in NATIONAL_IDS:
            response = await world.client.get(
                f"/api/v1/users/{admin.id}",
                headers={**admin.headers, "X-Request-ID": national_id},
            )
            assert response.status_code == 200
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    events = await events_after(engine, mark)
    assert len(events) == len(NATIONAL_IDS)
    logged = handler.lines
    assert len(logged) == len(NATIONAL_IDS) and all('"request_id"' in line for line in logged)
    for national_id in NATIONAL_IDS:
        assert not any(national_id in json.dumps(e, default=str) for e in events)
        assert not any(national_id in line for line in logged)


def test_settings_read_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VCM_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7")
    settings = Settings()  # type: ignore[call-arg]
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.168.1.7/32"]
    assert client_address("192.168.1.7", ["203.0.113.9"], settings.proxy_networks) == (
        "203.0.113.9"
    )


@pytest.mark.parametrize(
    "env", [{"VCM_TRUSTED_PROXIES": "10.0.0.0/40"}, {"VCM_TRUST_FORWARDED_FOR": "true"}]
)
def test_bad_or_retired_proxy_settings_refuse_to_start(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="VCM_TRUSTED_PROXIES"):
        Settings()  # type: ignore[call-arg]
