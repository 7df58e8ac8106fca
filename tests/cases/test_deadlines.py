"""Deadlines: initial verification 3 days after intake; later ones from settings."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.config import get_settings
from app.security.permissions import Role
from tests.cases.intake_helpers import open_case
from tests.conftest import World


@pytest.fixture
def identification_in_30_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VCM_DEADLINE_IDENTIFICATION_DAYS", "30")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_configured_identification_deadline(
    world: World, identification_in_30_days: None
) -> None:
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    case = await open_case(world, worker)
    received = datetime.fromisoformat(case["received_at"])
    assert datetime.fromisoformat(case["next_due_at"]) == received + timedelta(days=3)
    moved = await world.client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"to": "verifying"},
        headers={**worker.headers, "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["next_due_at"]) == received + timedelta(days=30)


async def test_no_deadline_when_the_law_sets_none(world: World) -> None:
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    case = await open_case(world, worker)
    moved = await world.client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"to": "verifying"},
        headers={**worker.headers, "If-Match": '"1"'},
    )
    assert moved.json()["next_due_at"] is None
