"""Deadlines: initial verification 3 days after intake, met only by the verification
record (not by moving the case to `verifying`); later ones from settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.config import get_settings
from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World


@pytest.fixture
def identification_in_30_days(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VCM_DEADLINE_IDENTIFICATION_DAYS", "30")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _to_verifying(world: World, worker: Actor, case: dict[str, Any]) -> dict[str, Any]:
    moved = await world.client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"to": "verifying"},
        headers={**worker.headers, "If-Match": f'"{case["version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    return moved.json()  # type: ignore[no-any-return]


async def _verify(world: World, worker: Actor, case: dict[str, Any]) -> dict[str, Any]:
    done = await world.client.post(
        f"/api/v1/cases/{case['id']}/verification",
        json={
            "outcome": "grounds_found",
            "completed_at": datetime.now(UTC).isoformat(),
            "agency_ids": [str(worker.agency.id)],
        },
        headers=worker.headers,
    )
    assert done.status_code == 201, done.text
    read = await world.client.get(f"/api/v1/cases/{case['id']}", headers=worker.headers)
    return read.json()  # type: ignore[no-any-return]


async def test_configured_identification_deadline(
    world: World, identification_in_30_days: None
) -> None:
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    case = await open_case(world, worker)
    received = datetime.fromisoformat(case["received_at"])
    assert datetime.fromisoformat(case["next_due_at"]) == received + timedelta(days=3)
    moved = await _to_verifying(world, worker, case)
    # Started, not done: the initial verification is still the next deadline.
    assert datetime.fromisoformat(moved["next_due_at"]) == received + timedelta(days=3)
    verified = await _verify(world, worker, moved)
    assert datetime.fromisoformat(verified["next_due_at"]) == received + timedelta(days=30)


async def test_no_deadline_when_the_law_sets_none(world: World) -> None:
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    case = await open_case(world, worker)
    verified = await _verify(world, worker, await _to_verifying(world, worker, case))
    assert verified["next_due_at"] is None


async def test_recorded_before_the_move_the_deadline_stays_met(
    world: World, identification_in_30_days: None
) -> None:
    """Verified while still `received`: the record meets the deadline, and the later
    move to `verifying` does not bring it back."""
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    case = await open_case(world, worker)
    received = datetime.fromisoformat(case["received_at"])
    verified = await _verify(world, worker, case)
    assert (verified["status"], verified["verified_at"] is not None) == ("received", True)
    assert datetime.fromisoformat(verified["next_due_at"]) == received + timedelta(days=30)
    moved = await _to_verifying(world, worker, verified)
    assert datetime.fromisoformat(moved["next_due_at"]) == received + timedelta(days=30)


class TestOverdueList:
    """`GET /cases?overdue=true`: cases without a verification record after the 3-day
    deadline, whatever their status says."""

    async def _late_case(self, world: World, worker: Actor) -> dict[str, Any]:
        body = intake_body()
        body["received_at"] = (datetime.now(UTC) - timedelta(days=4)).isoformat()
        return await _to_verifying(world, worker, await open_case(world, worker, body))

    async def _overdue(self, world: World, worker: Actor, flag: str) -> set[str]:
        response = await world.client.get(
            "/api/v1/cases", params={"overdue": flag}, headers=worker.headers
        )
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    async def test_moved_to_verifying_without_a_record_stays_overdue(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        late = await self._late_case(world, worker)
        fresh = await _to_verifying(world, worker, await open_case(world, worker))
        assert late["status"] == "verifying" and late["verified_at"] is None
        assert await self._overdue(world, worker, "true") == {late["id"]}
        assert await self._overdue(world, worker, "false") == {fresh["id"]}

    async def test_the_record_takes_it_off_the_list(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        late = await self._late_case(world, worker)
        verified = await _verify(world, worker, late)
        assert verified["next_due_at"] is None and verified["verified_at"] is not None
        assert await self._overdue(world, worker, "true") == set()
        assert await self._overdue(world, worker, "false") == {late["id"]}
