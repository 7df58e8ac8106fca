"""The events the services queue where the thing happens (`case.created`,
`case.status_changed`, `case.overdue`, `hotline_report.forwarded`), delivered to a
local receiver and verified with the `standardwebhooks` library as a receiver would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.security.permissions import Role
from app.services.cases.events import announce_overdue
from app.services.webhooks import delivery
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World
from tests.hotline.helpers import BASE as HOTLINE
from tests.hotline.helpers import forward, operator, record_report
from tests.webhooks.helpers import (
    Received,
    Receiver,
    app_settings,
    assert_tampering_fails,
    receiver,
    register,
    verified,
)

CASE_EVENTS = ["case.created", "case.status_changed", "case.overdue"]


@pytest.fixture
def allow_private(app: FastAPI) -> Iterator[Settings]:
    with app_settings(app, webhook_allow_private=True) as settings:
        yield settings


async def deliver_all(app: FastAPI, settings: Settings) -> None:
    while await delivery.run_once(app.state.sessionmaker, app.state.keys, settings):
        pass


def payloads(secret: str, hook: Receiver, path: str = "/hook") -> list[dict[str, Any]]:
    """Every payload `path` received, each verified and checked to fail when tampered."""
    found = []
    for got in hook.received:
        if got.path == path:
            assert_tampering_fails(secret, got)
            found.append(verified(secret, got))
    return found


def assert_no_identity(got: list[Received], *values: str) -> None:
    for received in got:
        shown = json.dumps(json.loads(received.body), ensure_ascii=False)
        for value in values:
            assert value not in shown
            for part in value.split():
                assert f'"{part}"' not in shown


async def transition(
    world: World, actor: Actor, case: dict[str, Any], to: str, version: int
) -> None:
    response = await world.client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"to": to, "reason": "Đã xác minh ban đầu"},
        headers={**actor.headers, "If-Match": f'"{version}"'},
    )
    assert response.status_code == 200, response.text


class TestCaseEvents:
    async def test_created_and_status_changed_go_to_the_lead_agency(
        self, world: World, app: FastAPI, allow_private: Settings
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        worker = await world.user(Role.CASE_WORKER, admin.agency)
        stranger = await world.user(Role.AGENCY_ADMIN)
        body = intake_body()
        with receiver() as hook:
            mine = await register(world, admin, hook.url(), CASE_EVENTS)
            await register(world, stranger, hook.url(path="/other"), CASE_EVENTS)
            case = await open_case(world, worker, body)
            await transition(world, worker, case, "verifying", 1)
            await deliver_all(app, allow_private)
        assert {r.path for r in hook.received} == {"/hook"}
        created, changed = sorted(payloads(mine["secret"], hook), key=lambda p: p["type"])
        assert created["type"] == "case.created"
        assert created["data"] == {
            "case_id": case["id"],
            "case_number": case["case_number"],
            "status": "received",
            "intake_source": "police_rescue",
            "province_code": "40",
            "received_at": created["data"]["received_at"],
        }
        assert created["data"]["received_at"].endswith("Z")
        assert changed["type"] == "case.status_changed"
        assert changed["data"]["case_id"] == case["id"]
        assert (changed["data"]["from_status"], changed["data"]["to_status"]) == (
            "received",
            "verifying",
        )
        victim = body["victim"]
        assert_no_identity(
            hook.received, victim["full_name"], victim["national_id"], victim["phone"]
        )

    async def test_a_refused_transition_queues_nothing(
        self, world: World, engine: AsyncEngine
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        worker = await world.user(Role.CASE_WORKER, admin.agency)
        await register(world, admin, "https://1.1.1.1/hooks", ["case.status_changed"])
        case = await open_case(world, worker)
        refused = await world.client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            json={"to": "identified"},
            headers={**worker.headers, "If-Match": '"1"'},
        )
        assert refused.status_code == 409
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM webhook_events"))).scalar()
        assert count == 0


async def overdue_sweep(app: FastAPI, now: datetime | None = None) -> int:
    async with app.state.sessionmaker() as session, session.begin():
        return await announce_overdue(session, now)


async def overdue_events(engine: AsyncEngine, case_id: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT payload FROM webhook_events WHERE event_type = 'case.overdue' "
                "AND payload->'data'->>'case_id' = :id ORDER BY created_at"
            ),
            {"id": case_id},
        )
        return [r.payload for r in rows]


class TestCaseOverdue:
    async def test_announced_once_per_deadline_by_the_sweep(
        self, world: World, app: FastAPI, engine: AsyncEngine, allow_private: Settings
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        worker = await world.user(Role.CASE_WORKER, admin.agency)
        body = intake_body()
        body["received_at"] = (datetime.now(UTC) - timedelta(days=10)).isoformat()
        with receiver() as hook:
            mine = await register(world, admin, hook.url(), ["case.overdue"])
            case = await open_case(world, worker, body)
            fresh = await open_case(world, worker)
            assert await overdue_sweep(app) >= 1
            assert await overdue_sweep(app) == 0  # already announced
            await deliver_all(app, allow_private)
        [event] = payloads(mine["secret"], hook)
        assert event["type"] == "case.overdue"
        assert event["data"]["case_id"] == case["id"]
        assert event["data"]["case_number"] == case["case_number"]
        assert event["data"]["status"] == "received"
        due = datetime.fromisoformat(event["data"]["due_at"])
        assert due == datetime.fromisoformat(body["received_at"]) + timedelta(days=3)
        assert await overdue_events(engine, fresh["id"]) == []
        assert_no_identity(hook.received, body["victim"]["full_name"])
        # A transition keeping the same deadline announces nothing more; a new deadline,
        # once passed, is announced again.
        await transition(world, worker, case, "verifying", 1)
        assert len(await overdue_events(engine, case["id"])) == 1
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE cases SET next_due_at = next_due_at + interval '1 day' WHERE id = :id"
                ),
                {"id": case["id"]},
            )
        await overdue_sweep(app)
        later = await overdue_events(engine, case["id"])
        assert [p["data"]["status"] for p in later] == ["received", "verifying"]

    async def test_closed_and_future_deadlines_are_not_announced(
        self, world: World, app: FastAPI, engine: AsyncEngine
    ) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        worker = await world.user(Role.CASE_WORKER, admin.agency)
        await register(world, admin, "https://1.1.1.1/hooks", ["case.overdue"])
        body = intake_body()
        body["received_at"] = (datetime.now(UTC) - timedelta(days=10)).isoformat()
        closed = await open_case(world, worker, body)
        response = await world.client.post(
            f"/api/v1/cases/{closed['id']}/transitions",
            json={"to": "closed", "reason": "Không phải nạn nhân"},
            headers={**worker.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        pending = await open_case(world, worker)
        await overdue_sweep(app)
        assert await overdue_events(engine, closed["id"]) == []
        assert await overdue_events(engine, pending["id"]) == []
        # Its deadline, once passed, is.
        await overdue_sweep(app, datetime.now(UTC) + timedelta(days=4))
        assert len(await overdue_events(engine, pending["id"])) == 1

    def test_the_worker_runs_the_sweep(self) -> None:
        from app.services.webhooks.worker import PERIODIC_JOBS

        assert announce_overdue in PERIODIC_JOBS


class TestHotlineEvents:
    async def test_forward_goes_to_the_target_and_the_centre_then_the_case_is_created(
        self, world: World, app: FastAPI, allow_private: Settings
    ) -> None:
        centre_operator = await operator(world)
        centre_admin = await world.user(Role.AGENCY_ADMIN, centre_operator.agency)
        police = await world.agency("police")
        police_admin = await world.user(Role.AGENCY_ADMIN, police)
        police_worker = await world.user(Role.CASE_WORKER, police)
        with receiver() as hook:
            centre = await register(
                world, centre_admin, hook.url(path="/centre"), ["hotline_report.forwarded"]
            )
            target = await register(
                world,
                police_admin,
                hook.url(path="/police"),
                ["hotline_report.forwarded", "case.created"],
            )
            report_id, body = await record_report(
                world, centre_operator, urgency="immediate_danger"
            )
            await forward(world, centre_operator, report_id, police.id)
            opened = await world.client.post(
                f"{HOTLINE}/{report_id}/triage",
                json={"action": "open_case"},
                headers={**police_worker.headers, "If-Match": '"2"'},
            )
            assert opened.status_code == 200, opened.text
            await deliver_all(app, allow_private)
        [told_centre] = payloads(centre["secret"], hook, "/centre")
        told_police = payloads(target["secret"], hook, "/police")
        assert sorted(p["type"] for p in told_police) == [
            "case.created",
            "hotline_report.forwarded",
        ]
        [forwarded] = [p for p in told_police if p["type"] == "hotline_report.forwarded"]
        assert forwarded["data"] == told_centre["data"]
        assert forwarded["data"]["hotline_report_id"] == str(report_id)
        assert forwarded["data"]["from_agency_id"] == str(centre_operator.agency.id)
        assert forwarded["data"]["to_agency_id"] == str(police.id)
        assert forwarded["data"]["urgency"] == "immediate_danger"
        assert "respond_by" in forwarded["data"]
        [created] = [p for p in told_police if p["type"] == "case.created"]
        assert created["data"]["case_id"] == opened.json()["case_id"]
        assert created["data"]["hotline_report_id"] == str(report_id)
        assert created["data"]["intake_source"] == "hotline"
        assert_no_identity(
            hook.received,
            body["caller"]["name"],
            body["caller"]["phone"],
            body["suspected_victims"][0]["name"],
        )

    async def test_unsubscribed_agencies_get_nothing(
        self, world: World, engine: AsyncEngine
    ) -> None:
        centre_operator = await operator(world)
        police = await world.agency("police")
        police_admin = await world.user(Role.AGENCY_ADMIN, police)
        await register(world, police_admin, "https://1.1.1.1/hooks", ["case.created"])
        report_id, _ = await record_report(world, centre_operator)
        await forward(world, centre_operator, report_id, police.id)
        async with engine.connect() as conn:
            types = (await conn.execute(text("SELECT event_type FROM webhook_events"))).scalars()
            assert list(types) == []
