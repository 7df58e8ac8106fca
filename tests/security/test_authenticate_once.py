"""The caller is authenticated once per request (app/deps.py `authenticate`), even when
the route asks for the principal twice: intake has a permission guard and the
idempotency dependency, each wanting the principal."""

from __future__ import annotations

from typing import Any

import pytest

from app import deps
from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body
from tests.conftest import World


async def test_a_route_asking_twice_checks_the_principal_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = await world.user(Role.CASE_WORKER)
    checks: list[Any] = []
    live_user = deps._LIVE_USER.fetchrow

    async def counted(session: Any, params: Any) -> Any:
        checks.append(params)
        return await live_user(session, params)

    monkeypatch.setattr(deps._LIVE_USER, "fetchrow", counted)
    response = await world.client.post(
        "/api/v1/cases",
        json=intake_body(),
        headers={**worker.headers, "Idempotency-Key": "once-0000000000000001"},
    )
    assert response.status_code == 201, response.text
    assert len(checks) == 1


async def test_each_request_is_checked_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is remembered across requests: a disabled user is refused at once."""
    worker = await world.user(Role.CASE_WORKER)
    checks: list[Any] = []
    live_user = deps._LIVE_USER.fetchrow

    async def counted(session: Any, params: Any) -> Any:
        checks.append(params)
        return await live_user(session, params)

    monkeypatch.setattr(deps._LIVE_USER, "fetchrow", counted)
    for _ in range(3):
        assert (await world.client.get("/api/v1/cases", headers=worker.headers)).status_code == 200
    assert len(checks) == 3
