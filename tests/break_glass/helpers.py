"""Helpers for the break-glass tests: a case led by social affairs, police outside it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World

REASON = "Công an nhận tin báo nạn nhân đang bị giữ tại Vinh, cần xác minh ngay (test)"


def url(case_id: str) -> str:
    return f"/api/v1/cases/{case_id}/break-glass"


@dataclass
class Outside:
    """A case led by a social-affairs agency and a police supervisor outside it."""

    lead: Actor
    police: Actor
    case: dict[str, Any]
    victim: dict[str, Any]


async def outside(world: World, role: Role = Role.SUPERVISOR) -> Outside:
    lead = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    body = intake_body()
    case = await open_case(world, lead, body)
    police = await world.user(role, await world.agency("police", "40"))
    return Outside(lead, police, case, body["victim"])


async def break_glass(
    world: World,
    actor: Actor,
    case_id: str,
    *,
    reason: str = REASON,
    purpose: str = "investigation",
) -> httpx.Response:
    return await world.client.post(
        url(case_id), json={"reason": reason, "purpose": purpose}, headers=actor.headers
    )


async def opened(world: World, actor: Actor, case_id: str) -> dict[str, Any]:
    response = await break_glass(world, actor, case_id)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def expire(engine: AsyncEngine, break_glass_id: str) -> None:
    """End the window, as time would."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE break_glass SET created_at = now() - interval '2 hours',"
                " expires_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": uuid.UUID(break_glass_id)},
        )


async def auditor(world: World) -> Actor:
    return await world.user(Role.AUDITOR, await world.agency("national"))
