"""Helpers for the tests of data subjects' requests: a case led by social affairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World

URL = "/api/v1/data-requests"
NOTE = "Chị Lan gọi điện xin bản sao hồ sơ của mình (test)"


@dataclass
class Led:
    lead: Actor
    case: dict[str, Any]

    @property
    def person_id(self) -> str:
        return str(self.case["victim"]["id"])


async def led(world: World, role: Role = Role.CASE_WORKER) -> Led:
    lead = await world.user(role, await world.agency("social_affairs", "40"))
    return Led(lead, await open_case(world, lead, intake_body()))


def body(led: Led, **over: Any) -> dict[str, Any]:
    return {
        "case_id": led.case["id"],
        "person_id": led.person_id,
        "kind": "access",
        "received_at": datetime.now(UTC).isoformat(),
        "channel": "phone",
        "requester": "self",
        "identity_checked": True,
        "note": NOTE,
        **over,
    }


async def post(world: World, actor: Actor, payload: dict[str, Any]) -> httpx.Response:
    return await world.client.post(URL, json=payload, headers=actor.headers)


async def made(world: World, led: Led, **over: Any) -> dict[str, Any]:
    response = await post(world, led.lead, body(led, **over))
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer
