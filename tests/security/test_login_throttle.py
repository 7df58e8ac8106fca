"""Failed sign-ins slow down the address that makes them, and never lock the account
(app/services/login_throttle.py).

The old rule locked an account after five failures from anywhere: anyone could lock
out any user or integration client (`admin` and `auditor` are guessable). Now the count
is per account and client address: past `VCM_LOGIN_MAX_FAILURES` from one address,
that address waits a delay that doubles with each further failure, while the owner
signs in from their own. Many failures for one account across addresses tell the
account's agency (`user.login_burst` / `integration_client.login_burst`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.models import LoginFailure, WebhookEvent
from app.security.permissions import Role
from app.services.login_throttle import delay_seconds
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.integration_clients.helpers import client_token, register
from tests.webhooks.helpers import register as register_webhook

OWN = "10.0.0.1"
STRANGER = "203.0.113.66"
HOOK = "https://93.184.216.34/hooks/vcm"


def test_delays_double_past_the_free_failures() -> None:
    settings = Settings()  # type: ignore[call-arg]
    free, base = settings.login_max_failures, settings.login_delay_seconds
    assert [delay_seconds(settings, free - 1), delay_seconds(settings, free)] == [0, base]
    assert delay_seconds(settings, free + 1) == 2 * base
    assert delay_seconds(settings, free + 3) == 8 * base
    assert delay_seconds(settings, free + 60) == settings.login_window_seconds


async def test_a_stranger_cannot_lock_a_user_out(world: World) -> None:
    victim = await world.user(Role.AGENCY_ADMIN, login=False)
    for _ in range(5):
        assert_problem(await world.token(victim.user.username, "guess", STRANGER), 401)
    throttled = await world.token(victim.user.username, victim.password, STRANGER)
    assert_problem(throttled, 429)
    assert 0 < int(throttled.headers["retry-after"]) <= 30
    # The owner, at their own address, is not held back by the stranger's failures.
    assert (await world.token(victim.user.username, victim.password, OWN)).status_code == 200
    # ...and signing in there does not clear the stranger's count.
    assert_problem(await world.token(victim.user.username, victim.password, STRANGER), 429)


async def test_the_delay_grows_with_each_failure(world: World) -> None:
    victim = await world.user(Role.CASE_WORKER, login=False)
    username = victim.user.username
    waits = []
    for failures in (5, 6, 8):
        # `failures` recorded, the last one a second ago: each further one doubles the wait.
        await world.session.execute(
            LoginFailure.__table__.delete().where(LoginFailure.username == username)  # type: ignore[attr-defined]
        )
        last = datetime.now(UTC) - timedelta(seconds=1)
        for i in range(failures):
            world.session.add(
                LoginFailure(
                    username=username,
                    client_address=STRANGER,
                    failed_at=last - timedelta(seconds=failures - 1 - i),
                )
            )
        await world.session.commit()
        response = await world.token(username, victim.password, STRANGER)
        assert_problem(response, 429)
        waits.append(int(response.headers["retry-after"]))
    assert waits[0] < waits[1] < waits[2]
    assert 29 <= waits[0] <= 30 and 59 <= waits[1] <= 60 and 239 <= waits[2] <= 240


async def test_once_the_delay_has_passed_the_address_may_try_again(world: World) -> None:
    victim = await world.user(Role.CASE_WORKER, login=False)
    past = datetime.now(UTC) - timedelta(seconds=31)
    for _ in range(5):
        world.session.add(
            LoginFailure(username=victim.user.username, client_address=STRANGER, failed_at=past)
        )
    await world.session.commit()
    assert (await world.token(victim.user.username, victim.password, STRANGER)).status_code == 200


async def test_a_stranger_cannot_lock_out_an_integration_client(world: World) -> None:
    made = await register(world)
    for _ in range(5):
        assert_problem(
            await client_token(world, made.client_id, "vcmcs_wrong", address=STRANGER), 401
        )
    assert_problem(await client_token(world, made.client_id, made.secret, address=STRANGER), 429)
    assert (await client_token(world, made.client_id, made.secret, address=OWN)).status_code == 200


async def _burst_events(engine: AsyncEngine, event_type: str) -> list[WebhookEvent]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(WebhookEvent).where(WebhookEvent.event_type == event_type))  # type: ignore[arg-type]
        return list(rows.all())  # type: ignore[arg-type]


async def test_a_burst_across_addresses_tells_the_agency(
    app: FastAPI, world: World, engine: AsyncEngine
) -> None:
    victim = await world.user(Role.SUPERVISOR, login=False)
    admin = await world.user(Role.AGENCY_ADMIN, victim.agency)
    await register_webhook(world, admin, HOOK, ["user.login_burst"])
    threshold = app.state.settings.login_burst_failures
    mark = await last_event_id(engine)
    sent = 0
    for address in range(threshold // 5 + 1):
        for _ in range(5):
            await world.token(victim.user.username, "guess", f"198.51.100.{address}")
            sent += 1
            if sent == threshold - 1:
                assert await _burst_events(engine, "user.login_burst") == []
    (event,) = await _burst_events(engine, "user.login_burst")
    assert event.agency_id == victim.agency.id
    assert event.payload["data"] == {
        "user_id": str(victim.id),
        "failures": str(threshold),
        "window_seconds": str(app.state.settings.login_window_seconds),
    }
    bursts = [e for e in await events_after(engine, mark) if e["action"] == "auth.login_burst"]
    assert len(bursts) == 1
    assert bursts[0]["resource_id"] == str(victim.id)
    assert bursts[0]["actor_agency_id"] == victim.agency.id
    # The owner still signs in from their own address.
    assert (await world.token(victim.user.username, victim.password, OWN)).status_code == 200


async def test_a_client_burst_tells_the_clients_agency(
    app: FastAPI, world: World, engine: AsyncEngine
) -> None:
    made = await register(world)
    await register_webhook(world, made.admin, HOOK, ["integration_client.login_burst"])
    for i in range(app.state.settings.login_burst_failures):
        await client_token(world, made.client_id, "vcmcs_wrong", address=f"198.51.100.{i}")
    (event,) = await _burst_events(engine, "integration_client.login_burst")
    assert event.agency_id == made.admin.agency.id
    assert event.payload["data"]["client_id"] == made.client_id


@pytest.mark.parametrize("username", ["nobody.here", "admin"])
async def test_unknown_accounts_are_throttled_alike_and_tell_no_one(
    world: World, engine: AsyncEngine, username: str
) -> None:
    for _ in range(5):
        assert_problem(await world.token(username, "guess", STRANGER), 401)
    assert_problem(await world.token(username, "guess", STRANGER), 429)
