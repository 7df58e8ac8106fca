"""Break-glass: police and the hotline read a case outside their access in an
emergency, for a limited time, audited, announced to the lead, reviewed by auditors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.break_glass.helpers import (
    REASON,
    auditor,
    break_glass,
    expire,
    opened,
    outside,
    url,
)
from tests.conftest import World, assert_problem
from tests.webhooks.helpers import PUBLIC_URL, app_settings, register

QUEUE = "/api/v1/break-glass"


def _case(case_id: str) -> str:
    return f"/api/v1/cases/{case_id}"


class TestBreakingTheGlass:
    async def test_police_read_an_unreferred_case_for_the_window(
        self, world: World, engine: AsyncEngine
    ) -> None:
        o = await outside(world)
        case_url = _case(o.case["id"])
        assert_problem(await world.client.get(case_url, headers=o.police.headers), 404)

        mark = await last_event_id(engine)
        response = await break_glass(world, o.police, o.case["id"])
        assert response.status_code == 201, response.text
        grant = response.json()
        assert response.headers["Location"] == case_url
        assert grant["case_id"] == o.case["id"]
        assert grant["user_id"] == str(o.police.id)
        assert grant["purpose"] == "investigation"
        assert grant["reason"] == REASON  # as written
        assert grant["verdict"] is None
        assert grant["expires_at"] > grant["created_at"]

        masked = await world.client.get(case_url, headers=o.police.headers)
        assert masked.status_code == 200, masked.text
        assert masked.json()["id"] == o.case["id"]
        assert masked.json()["victim"]["full_name"] != o.victim["full_name"]
        revealed = await world.client.get(
            case_url,
            params={"reveal": "identity"},
            headers={**o.police.headers, "X-Purpose-Of-Use": "investigation"},
        )
        assert revealed.status_code == 200, revealed.text
        assert revealed.json()["victim"]["full_name"] == o.victim["full_name"]

        code = f"break_glass:{grant['id']}"
        events = [
            (e["action"], e["outcome"], e["reason"], e["purpose"])
            for e in await events_after(engine, mark)
            if e["actor_id"] == o.police.id
        ]
        assert ("case.break_glass", "success", code, "investigation") in events
        assert ("case.read", "success", code, None) in events
        assert ("case.reveal", "success", code, "investigation") in events

    async def test_the_window_lasts_the_setting(self, world: World, app: FastAPI) -> None:
        o = await outside(world)
        for minutes in (60, 5):
            with app_settings(app, break_glass_minutes=minutes):
                grant = await opened(world, o.police, o.case["id"])
            created = datetime.fromisoformat(grant["created_at"])
            expires = datetime.fromisoformat(grant["expires_at"])
            assert (expires - created).total_seconds() == minutes * 60
            o.police = await world.user(Role.SUPERVISOR, o.police.agency)

    async def test_after_expiry_the_case_is_404_again(
        self, world: World, engine: AsyncEngine
    ) -> None:
        o = await outside(world)
        grant = await opened(world, o.police, o.case["id"])
        await expire(engine, grant["id"])
        response = await world.client.get(_case(o.case["id"]), headers=o.police.headers)
        assert_problem(response, 404)
        assert o.victim["full_name"] not in response.text
        # A new emergency may open a new window.
        assert (await break_glass(world, o.police, o.case["id"])).status_code == 201

    async def test_the_grant_is_the_users_own(self, world: World) -> None:
        o = await outside(world)
        await opened(world, o.police, o.case["id"])
        colleague = await world.user(Role.SUPERVISOR, o.police.agency)
        response = await world.client.get(_case(o.case["id"]), headers=colleague.headers)
        assert_problem(response, 404)

    async def test_a_case_worker_of_police_may_break_the_glass(self, world: World) -> None:
        o = await outside(world, Role.CASE_WORKER)
        await opened(world, o.police, o.case["id"])
        response = await world.client.get(_case(o.case["id"]), headers=o.police.headers)
        assert response.status_code == 200, response.text

    async def test_a_hotline_operator_reads_masked_only(self, world: World) -> None:
        o = await outside(world)
        operator = await world.user(Role.HOTLINE_OPERATOR, await world.agency("hotline"))
        case_url = _case(o.case["id"])
        assert_problem(await world.client.get(case_url, headers=operator.headers), 404)
        await opened(world, operator, o.case["id"])
        masked = await world.client.get(case_url, headers=operator.headers)
        assert masked.status_code == 200, masked.text
        assert o.victim["full_name"] not in masked.text
        # No reveal permission: 403; no other case route at all.
        revealed = await world.client.get(
            case_url,
            params={"reveal": "identity"},
            headers={**operator.headers, "X-Purpose-Of-Use": "emergency"},
        )
        assert_problem(revealed, 403)
        for path in ("/timeline", "/evidence", "/persons"):
            assert_problem(await world.client.get(case_url + path, headers=operator.headers), 404)
        listed = await world.client.get("/api/v1/cases", headers=operator.headers)
        assert o.case["id"] not in listed.text


class TestWhoMay:
    async def test_the_lead_needs_none(self, world: World, engine: AsyncEngine) -> None:
        o = await outside(world)
        mark = await last_event_id(engine)
        problem = assert_problem(await break_glass(world, o.lead, o.case["id"]), 409)
        assert str(problem["type"]).endswith("break-glass-not-needed")
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("case.break_glass", "denied", "already_readable")
        ]

    async def test_an_open_grant_needs_no_second(self, world: World) -> None:
        o = await outside(world)
        await opened(world, o.police, o.case["id"])
        assert_problem(await break_glass(world, o.police, o.case["id"]), 409)

    async def test_a_case_that_does_not_exist_is_404(self, world: World) -> None:
        o = await outside(world)
        assert_problem(await break_glass(world, o.police, str(uuid.uuid4())), 404)

    async def test_an_agency_without_emergency_access_is_403_whatever_the_id(
        self, world: World
    ) -> None:
        o = await outside(world)
        other = await world.user(Role.SUPERVISOR, await world.agency("social_affairs", "01"))
        for case_id in (o.case["id"], str(uuid.uuid4())):
            problem = assert_problem(await break_glass(world, other, case_id), 403)
            assert str(problem["type"]).endswith("agency-function-required")

    async def test_roles_without_the_permission_get_404(self, world: World) -> None:
        o = await outside(world)
        for role in (Role.AUDITOR, Role.ANALYST, Role.AGENCY_ADMIN, Role.REPORTING_OFFICER):
            stranger = await world.user(role, o.police.agency)
            assert_problem(await break_glass(world, stranger, o.case["id"]), 404)

    async def test_reason_and_purpose_are_required(self, world: World) -> None:
        o = await outside(world)
        for body in (
            {"purpose": "investigation"},
            {"reason": REASON},
            {"reason": REASON, "purpose": "curiosity"},
            {"reason": "vì", "purpose": "investigation"},
        ):
            response = await world.client.post(
                url(o.case["id"]), json=body, headers=o.police.headers
            )
            assert_problem(response, 422)


class TestAnnounced:
    async def _events(self, engine: AsyncEngine) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT agency_id, payload FROM webhook_events"
                    " WHERE event_type = 'case.break_glass' ORDER BY created_at"
                )
            )
            return [(r.agency_id, r.payload) for r in rows]

    async def test_the_lead_is_told(self, world: World, engine: AsyncEngine) -> None:
        o = await outside(world)
        await register(
            world,
            await world.user(Role.AGENCY_ADMIN, o.lead.agency),
            PUBLIC_URL,
            ["case.break_glass"],
        )
        await register(
            world,
            await world.user(Role.AGENCY_ADMIN, o.police.agency),
            PUBLIC_URL,
            ["case.break_glass"],
        )
        grant = await opened(world, o.police, o.case["id"])
        events = await self._events(engine)
        assert [agency for agency, _ in events] == [o.lead.agency.id]
        payload = events[0][1]
        assert payload["type"] == "case.break_glass"
        assert payload["data"]["case_id"] == o.case["id"]
        assert payload["data"]["break_glass_id"] == grant["id"]
        assert payload["data"]["agency_id"] == str(o.police.agency.id)
        assert payload["data"]["purpose"] == "investigation"
        assert REASON not in str(payload)

    async def test_the_lead_sees_it_on_the_timeline(self, world: World) -> None:
        o = await outside(world)
        grant = await opened(world, o.police, o.case["id"])
        response = await world.client.get(_case(o.case["id"]) + "/timeline", headers=o.lead.headers)
        entries = [e for e in response.json()["items"] if e["kind"] == "break_glass"]
        assert [(e["ref_id"], e["detail"]) for e in entries] == [(grant["id"], "investigation")]


class TestReview:
    async def test_the_queue_and_a_verdict(self, world: World, engine: AsyncEngine) -> None:
        o = await outside(world)
        grant = await opened(world, o.police, o.case["id"])
        reviewer = await auditor(world)

        queue = await world.client.get(
            QUEUE, params={"reviewed": "false"}, headers=reviewer.headers
        )
        assert queue.status_code == 200, queue.text
        (item,) = [i for i in queue.json()["items"] if i["id"] == grant["id"]]
        assert item["reason"] == REASON
        assert item["verdict"] is None

        mark = await last_event_id(engine)
        response = await world.client.post(
            f"{QUEUE}/{grant['id']}/review",
            json={"verdict": "justified", "note": "có tin báo khẩn cấp thật"},
            headers=reviewer.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["verdict"] == "justified"
        assert body["reviewed_by"] == str(reviewer.id)
        assert body["note"] == "có tin báo khẩn cấp thật"
        assert body["revoked_at"] is None
        events = await events_after(engine, mark)
        assert ("break_glass.review", "success", "verdict:justified") in [
            (e["action"], e["outcome"], e["reason"]) for e in events
        ]

        pending = await world.client.get(
            QUEUE, params={"reviewed": "false"}, headers=reviewer.headers
        )
        assert grant["id"] not in [i["id"] for i in pending.json()["items"]]
        done = await world.client.get(QUEUE, params={"reviewed": "true"}, headers=reviewer.headers)
        assert grant["id"] in [i["id"] for i in done.json()["items"]]
        # A justified verdict leaves the window open.
        read = await world.client.get(_case(o.case["id"]), headers=o.police.headers)
        assert read.status_code == 200

    async def test_a_second_verdict_is_409(self, world: World) -> None:
        o = await outside(world)
        grant = await opened(world, o.police, o.case["id"])
        reviewer = await auditor(world)
        review = f"{QUEUE}/{grant['id']}/review"
        first = await world.client.post(
            review, json={"verdict": "justified"}, headers=reviewer.headers
        )
        assert first.status_code == 200, first.text
        second = await world.client.post(
            review, json={"verdict": "unjustified"}, headers=reviewer.headers
        )
        problem = assert_problem(second, 409)
        assert str(problem["type"]).endswith("break-glass-reviewed")

    async def test_unjustified_ends_an_open_window(self, world: World) -> None:
        o = await outside(world)
        grant = await opened(world, o.police, o.case["id"])
        response = await world.client.post(
            f"{QUEUE}/{grant['id']}/review",
            json={"verdict": "unjustified", "note": "không có tình huống khẩn cấp"},
            headers=(await auditor(world)).headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["revoked_at"] is not None
        assert_problem(await world.client.get(_case(o.case["id"]), headers=o.police.headers), 404)

    async def test_an_unknown_id_is_404(self, world: World) -> None:
        response = await world.client.post(
            f"{QUEUE}/{uuid.uuid4()}/review",
            json={"verdict": "justified"},
            headers=(await auditor(world)).headers,
        )
        assert_problem(response, 404)

    async def test_a_bad_verdict_is_422(self, world: World) -> None:
        o = await outside(world)
        grant = await opened(world, o.police, o.case["id"])
        response = await world.client.post(
            f"{QUEUE}/{grant['id']}/review",
            json={"verdict": "maybe"},
            headers=(await auditor(world)).headers,
        )
        assert_problem(response, 422)
