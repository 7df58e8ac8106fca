"""Arrangements for the hotline tests: a centre with an operator, a report body."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app.security.permissions import Role
from tests.conftest import Actor, World, fake

BASE = "/api/v1/hotline-reports"


def report_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "channel": "phone",
        "caller": {"name": fake.name(), "phone": "0912345678", "relation": "hàng xóm"},
        "summary": f"{fake.name()} bị đưa qua biên giới tại {fake.city()}",
        "province_code": "40",
        "urgency": "urgent",
        "suspected_victims": [
            {
                "name": fake.name(),
                "sex": "female",
                "approximate_age": 16,
                "location": fake.address(),
            }
        ],
    }
    body.update(changes)
    return body


async def operator(world: World) -> Actor:
    return await world.user(Role.HOTLINE_OPERATOR, await world.agency("hotline"))


async def record_report(world: World, actor: Actor, **changes: Any) -> tuple[uuid.UUID, dict]:
    body = report_body(**changes)
    response = await world.client.post(BASE, json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"]), body


async def forward(world: World, actor: Actor, report_id: uuid.UUID, agency_id: uuid.UUID) -> None:
    response = await world.client.post(
        f"{BASE}/{report_id}/triage",
        json={"action": "forward", "to_agency_id": str(agency_id)},
        headers={**actor.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
