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


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The principal checks run against the database (user, agency, login session)."""
    seen: list[Any] = []
    live_user = deps._LIVE_USER.fetchrow

    async def counted(session: Any, params: Any) -> Any:
        seen.append(params)
        return await live_user(session, params)

    monkeypatch.setattr(deps._LIVE_USER, "fetchrow", counted)
    return seen


async def test_a_route_asking_twice_checks_the_principal_once(
    world: World, checks: list[Any]
) -> None:
    worker = await world.user(Role.CASE_WORKER)
    response = await world.client.post(
        "/api/v1/cases",
        json=intake_body(),
        headers={**worker.headers, "Idempotency-Key": "once-0000000000000001"},
    )
    assert response.status_code == 201, response.text
    assert len(checks) == 1


async def test_each_request_is_checked_again(world: World, checks: list[Any]) -> None:
    """Nothing is remembered across requests: a disabled user is refused at once."""
    worker = await world.user(Role.CASE_WORKER)
    for _ in range(3):
        assert (await world.client.get("/api/v1/cases", headers=worker.headers)).status_code == 200
    assert len(checks) == 3
