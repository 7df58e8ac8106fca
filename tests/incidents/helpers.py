"""Helpers for the incident tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.security.permissions import Role
from tests.conftest import Actor, World

URL = "/api/v1/incidents"
DESCRIPTION = "Máy tính xách tay chứa danh sách nạn nhân bị mất tại Vinh (test)"


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "detected_at": ago(1),
        "nature": "confidentiality",
        "description": DESCRIPTION,
        "persons_affected": 12,
        "severity": "high",
        **overrides,
    }


async def admin(world: World, province: str = "40") -> Actor:
    return await world.user(Role.AGENCY_ADMIN, await world.agency("social_affairs", province))


async def recorded(world: World, actor: Actor, **overrides: Any) -> dict[str, Any]:
    response = await world.client.post(URL, json=body(**overrides), headers=actor.headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def notified(
    world: World, actor: Actor, incident_id: str, recipient: str = "authority"
) -> dict[str, Any]:
    response = await world.client.post(
        f"{URL}/{incident_id}/notifications",
        json={"recipient": recipient, "notified_at": ago(0.1)},
        headers=actor.headers,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def listed(world: World, actor: Actor, query: str = "") -> list[dict[str, Any]]:
    response = await world.client.get(f"{URL}{query}", headers=actor.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
