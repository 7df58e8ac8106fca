"""The outbox and its delivery worker against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.models.agency import Agency
from app.security import ssrf
from app.security.permissions import Role
from app.services.webhooks import delivery
from app.services.webhooks.outbox import emit
from tests.conftest import World
from tests.webhooks.helpers import app_settings, receiver, register, verify_signature


@pytest.fixture
def allow_private(app: FastAPI) -> Iterator[Settings]:
    with app_settings(app, webhook_allow_private=True) as settings:
        yield settings


async def emit_committed(
    app: FastAPI, agency: Agency, event_type: str = "referral.created"
) -> dict[str, str]:
    data = {"referral_id": str(uuid.uuid4()), "case_id": str(uuid.uuid4()), "status": "pending"}
    async with app.state.sessionmaker() as session, session.begin():
        await emit(session, event_type=event_type, agency_ids=[agency.id], data=data)
    return data


async def deliver(app: FastAPI, settings: Any, now: datetime | None = None) -> int:
    return await delivery.run_once(app.state.sessionmaker, app.state.keys, settings, now=now)


async def rows(engine: AsyncEngine, sql: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(text(sql))).mappings()]


class TestDelivery:
    async def test_signed_delivery_without_identity_fields(
        self, world: World, app: FastAPI, engine: AsyncEngine, allow_private: Any
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        with receiver() as hook:
            created = await register(world, admin, hook.url(), ["referral.created"])
            data = await emit_committed(app, admin.agency)
            assert await deliver(app, allow_private) == 1
            assert await deliver(app, allow_private) == 0
        [got] = hook.received
        assert got.path == "/hook"
        assert verify_signature(created["secret"], got.headers, got.body)
        assert not verify_signature(created["secret"], got.headers, got.body + b" ")
        payload = json.loads(got.body)
        assert payload["type"] == "referral.created"
        assert payload["data"] == data
        assert set(payload) == {"type", "timestamp", "data"}
        [event] = await rows(engine, "SELECT id FROM webhook_events")
        assert got.headers["webhook-id"] == str(event["id"])
        assert abs(int(got.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
        [row] = await rows(engine, "SELECT * FROM webhook_deliveries")
        assert (row["status"], row["attempt_count"], row["last_status_code"]) == (
            "delivered",
            1,
            200,
        )
        [attempt] = await rows(engine, "SELECT * FROM webhook_attempts")
        assert (attempt["status_code"], attempt["error"]) == (200, None)
        assert attempt["duration_ms"] >= 0

    async def test_only_subscribed_active_endpoints_of_the_agency(
        self, world: World, app: FastAPI, engine: AsyncEngine, allow_private: Any
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        other = await world.user(Role.AGENCY_ADMIN)
        with receiver() as hook:
            await register(world, admin, hook.url(path="/created"), ["referral.created"])
            await register(world, admin, hook.url(path="/accepted"), ["referral.accepted"])
            gone = await register(world, admin, hook.url(path="/gone"), ["referral.created"])
            await register(world, other, hook.url(path="/other"), ["referral.created"])
            await world.client.delete(f"/api/v1/webhooks/{gone['id']}", headers=admin.headers)
            await emit_committed(app, admin.agency)
            assert await deliver(app, allow_private) == 1
        assert [r.path for r in hook.received] == ["/created"]

    async def test_retries_after_500s_with_backoff(
        self, world: World, app: FastAPI, engine: AsyncEngine, allow_private: Any
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        with receiver(500, 500) as hook:
            created = await register(world, admin, hook.url())
            await emit_committed(app, admin.agency)
            start = datetime.now(UTC)
            assert await deliver(app, allow_private, start) == 1
            [row] = await rows(engine, "SELECT * FROM webhook_deliveries")
            assert (row["status"], row["attempt_count"], row["last_status_code"]) == (
                "pending",
                1,
                500,
            )
            wait = row["next_attempt_at"] - start
            assert timedelta(seconds=2.5) <= wait <= timedelta(seconds=5)
            # Not due yet: nothing is sent.
            assert await deliver(app, allow_private, start + timedelta(seconds=2)) == 0
            second = start + timedelta(seconds=6)
            assert await deliver(app, allow_private, second) == 1
            [row] = await rows(engine, "SELECT * FROM webhook_deliveries")
            assert (row["status"], row["attempt_count"]) == ("pending", 2)
            assert timedelta(seconds=15) <= row["next_attempt_at"] - second <= timedelta(seconds=30)
            assert await deliver(app, allow_private, second + timedelta(seconds=31)) == 1
        assert len(hook.received) == 3
        ids = {r.headers["webhook-id"] for r in hook.received}
        assert len(ids) == 1, "retries carry the same message id"
        assert all(verify_signature(created["secret"], r.headers, r.body) for r in hook.received)
        [row] = await rows(engine, "SELECT * FROM webhook_deliveries")
        assert (row["status"], row["attempt_count"], row["last_status_code"]) == (
            "delivered",
            3,
            200,
        )
        attempts = await rows(engine, "SELECT * FROM webhook_attempts ORDER BY attempted_at")
        assert [a["status_code"] for a in attempts] == [500, 500, 200]

    async def test_gives_up_after_the_last_attempt(
        self, world: World, app: FastAPI, engine: AsyncEngine, allow_private: Any
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        with receiver(*[503] * delivery.MAX_ATTEMPTS) as hook:
            await register(world, admin, hook.url())
            await emit_committed(app, admin.agency)
            moment = datetime.now(UTC)
            for _ in range(delivery.MAX_ATTEMPTS):
                assert await deliver(app, allow_private, moment) == 1
                moment += timedelta(hours=9)
            assert await deliver(app, allow_private, moment + timedelta(days=3)) == 0
        [row] = await rows(engine, "SELECT * FROM webhook_deliveries")
        assert (row["status"], row["attempt_count"]) == ("failed", delivery.MAX_ATTEMPTS)
        assert len(hook.received) == delivery.MAX_ATTEMPTS

    async def test_nothing_sent_for_a_rolled_back_change(
        self, world: World, app: FastAPI, engine: AsyncEngine, allow_private: Any
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        with receiver() as hook:
            await register(world, admin, hook.url())
            async with app.state.sessionmaker() as session:
                await session.begin()
                await emit(
                    session,
                    event_type="referral.accepted",
                    agency_ids=[admin.agency.id],
                    data={"referral_id": str(uuid.uuid4())},
                )
                await session.rollback()
            assert await deliver(app, allow_private, datetime.now(UTC) + timedelta(days=2)) == 0
        assert hook.received == []
        assert await rows(engine, "SELECT id FROM webhook_events") == []
        assert await rows(engine, "SELECT id FROM webhook_deliveries") == []

    async def test_dns_now_private_is_refused_and_recorded(
        self, world: World, app: FastAPI, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        settings = app.state.settings  # VCM_WEBHOOK_ALLOW_PRIVATE off

        async def public(host: str, port: int) -> list[str]:
            return ["203.113.131.1"]

        async def rebound(host: str, port: int) -> list[str]:
            return ["10.20.30.40"]

        monkeypatch.setattr(ssrf, "resolve_host", public)
        await register(world, admin, "https://crm.example.vn/hook")
        await emit_committed(app, admin.agency)
        monkeypatch.setattr(ssrf, "resolve_host", rebound)
        connected: list[str] = []

        class NoConnect:
            async def handle_async_request(self, request: Any) -> Any:
                connected.append(str(request.url))
                raise AssertionError("must not connect")

        transport: Any = type("T", (NoConnect,), {"aclose": lambda self: _done()})()
        assert (
            await delivery.run_once(
                app.state.sessionmaker, app.state.keys, settings, transport=transport
            )
            == 1
        )
        assert connected == []
        [attempt] = await rows(engine, "SELECT * FROM webhook_attempts")
        assert (attempt["status_code"], attempt["error"]) == (None, "private_address")
        [row] = await rows(engine, "SELECT * FROM webhook_deliveries")
        assert (row["status"], row["attempt_count"], row["last_error"]) == (
            "pending",
            1,
            "private_address",
        )

    async def test_connects_to_the_checked_address_with_the_name_as_host(
        self, world: World, app: FastAPI, monkeypatch: pytest.MonkeyPatch, allow_private: Any
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)

        async def loopback(host: str, port: int) -> list[str]:
            return ["127.0.0.1"]

        monkeypatch.setattr(ssrf, "resolve_host", loopback)
        with receiver() as hook:
            await register(world, admin, hook.url(host="receiver.example.vn"))
            await emit_committed(app, admin.agency)
            assert await deliver(app, allow_private) == 1
        [got] = hook.received
        assert got.headers["host"] == f"receiver.example.vn:{hook.port}"

    async def test_redirects_are_not_followed(
        self, world: World, app: FastAPI, engine: AsyncEngine, allow_private: Any
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        with receiver(307) as hook:
            await register(world, admin, hook.url())
            await emit_committed(app, admin.agency)
            assert await deliver(app, allow_private) == 1
        assert len(hook.received) == 1
        [row] = await rows(engine, "SELECT * FROM webhook_deliveries")
        assert (row["status"], row["last_status_code"]) == ("pending", 307)


async def _done() -> None:
    return None


class TestEmitRules:
    async def test_identity_fields_are_refused(self, world: World, app: FastAPI) -> None:
        agency = await world.agency()
        for data in (
            {"full_name": "abc"},
            {"referral_id": "Nguyễn Văn An"},
            {"note": "a free text"},
            {"Referral-Id": "x"},
        ):
            async with app.state.sessionmaker() as session:
                with pytest.raises(ValueError):
                    await emit(
                        session, event_type="referral.created", agency_ids=[agency.id], data=data
                    )

    async def test_unknown_event_type_is_refused(self, world: World, app: FastAPI) -> None:
        agency = await world.agency()
        async with app.state.sessionmaker() as session:
            with pytest.raises(ValueError):
                await emit(session, event_type="person.read", agency_ids=[agency.id], data={})


class TestBackoff:
    def test_schedule_spans_more_than_a_day_even_at_minimum_jitter(self) -> None:
        assert sum(delivery.BACKOFF, timedelta()) / 2 >= timedelta(hours=24)
        assert len(delivery.BACKOFF) + 1 == delivery.MAX_ATTEMPTS

    def test_jitter_stays_within_bounds(self) -> None:
        import random

        rng = random.Random(7)
        for attempt, base in enumerate(delivery.BACKOFF, start=1):
            for _ in range(50):
                wait = delivery.retry_delay(attempt, rng)
                assert base / 2 <= wait <= base
        total_min = sum((delivery.retry_delay(n, _Low()) for n in range(1, 15)), timedelta())
        assert total_min >= timedelta(hours=24)


class _Low(__import__("random").Random):
    def uniform(self, a: float, b: float) -> float:
        return a
