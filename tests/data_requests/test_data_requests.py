"""The register of data subjects' requests: deadlines on the holiday calendar, lead
agency only, completion and rejection, overdue list and webhook event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.holidays import HOLIDAY_ROWS
from app.security.permissions import Role
from app.services.webhooks import worker
from tests.audit.helpers import events_after, last_event_id
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import World, assert_problem
from tests.data_requests.helpers import NOTE, URL, Led, body, led, made, post
from tests.webhooks.helpers import PUBLIC_URL, register

# Friday 13 Feb 2026, 10:00 in Vietnam: the last working day before Tết.
BEFORE_TET = "2026-02-13T03:00:00+00:00"


async def _age(engine: AsyncEngine, request_id: str, days: int) -> None:
    """Move a request's completion day into the past, as time would."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE data_requests SET complete_by = current_date - CAST(:days AS integer)"
                " WHERE id = :id"
            ),
            {"id": uuid.UUID(request_id), "days": days},
        )


class TestCreate:
    async def test_deadlines_across_tet(self, world: World) -> None:
        c = await led(world)
        answer = await made(world, c, received_at=BEFORE_TET)
        # Tết runs 14-22 Feb 2026: two working days land on Tuesday 24 Feb.
        assert answer["acknowledge_by"] == "2026-02-24"
        # Fifteen calendar days.
        assert answer["complete_by"] == "2026-02-28"
        assert answer["status"] == "open"
        assert answer["acknowledged_late"] is True
        assert answer["overdue"] is True
        # The create's answer shows what was written.
        assert answer["note"] == NOTE

    async def test_a_fresh_request_is_acknowledged_in_time(self, world: World) -> None:
        c = await led(world)
        answer = await made(world, c)
        assert answer["acknowledged_late"] is False
        assert answer["overdue"] is False

    async def test_the_holiday_table_is_the_calendar(
        self, world: World, engine: AsyncEngine
    ) -> None:
        async with engine.connect() as conn:
            found = (
                await conn.execute(text("SELECT day, name, confirmed FROM public_holidays"))
            ).all()
        assert sorted((r.day, r.name, r.confirmed) for r in found) == sorted(HOLIDAY_ROWS)
        tet = [
            {"day": day, "name": name, "confirmed": ok}
            for day, name, ok in HOLIDAY_ROWS
            if name == "Tết Nguyên đán"
        ]
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM public_holidays WHERE name = 'Tết Nguyên đán'"))
        try:
            c = await led(world)
            answer = await made(world, c, received_at=BEFORE_TET)
            assert answer["acknowledge_by"] == "2026-02-17"
        finally:
            async with engine.begin() as conn:  # reference data: put it back
                await conn.execute(
                    text(
                        "INSERT INTO public_holidays (day, name, confirmed)"
                        " VALUES (:day, :name, :confirmed)"
                    ),
                    tet,
                )

    async def test_note_is_sealed(self, world: World, engine: AsyncEngine) -> None:
        c = await led(world)
        answer = await made(world, c)
        async with engine.connect() as conn:
            note = (
                await conn.execute(
                    text("SELECT note FROM data_requests WHERE id = :id"),
                    {"id": uuid.UUID(answer["id"])},
                )
            ).scalar_one()
        assert NOTE.encode() not in bytes(note)

    async def test_person_must_belong_to_the_case(self, world: World) -> None:
        c = await led(world)
        other = await led(world)
        response = await post(world, c.lead, body(c, person_id=other.person_id))
        assert_problem(response, 422)

    async def test_received_in_the_future_is_refused(self, world: World) -> None:
        c = await led(world)
        later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        assert_problem(await post(world, c.lead, body(c, received_at=later)), 422)

    async def test_kinds_and_requesters_are_closed_lists(self, world: World) -> None:
        c = await led(world)
        for over in ({"kind": "deletion"}, {"requester": "neighbour"}, {"channel": "pigeon"}):
            assert_problem(await post(world, c.lead, body(c, **over)), 422)
        for kind in ("rectification", "erasure", "restriction", "objection", "consent_withdrawal"):
            assert (await made(world, c, kind=kind))["kind"] == kind

    async def test_another_agency_gets_404(self, world: World) -> None:
        c = await led(world)
        stranger = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "01"))
        assert_problem(await post(world, stranger, body(c)), 404)

    async def test_audited(self, world: World, engine: AsyncEngine) -> None:
        c = await led(world)
        after = await last_event_id(engine)
        answer = await made(world, c, kind="erasure")
        events = await events_after(engine, after)
        assert any(
            e["action"] == "data_request.create"
            and str(e["resource_id"]) == answer["id"]
            and e["reason"] == "kind:erasure"
            for e in events
        )


class TestClose:
    async def test_complete_needs_an_outcome(self, world: World) -> None:
        c = await led(world)
        made_ = await made(world, c)
        target = f"{URL}/{made_['id']}/complete"
        response = await world.client.post(target, json={}, headers=c.lead.headers)
        assert_problem(response, 422)
        response = await world.client.post(
            target, json={"outcome": "Đã gửi bản sao"}, headers=c.lead.headers
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["status"] == "completed"
        assert answer["outcome"] == "Đã gửi bản sao"
        assert answer["closed_by"] == str(c.lead.id)
        # Closed stays closed.
        again = await world.client.post(
            f"{URL}/{made_['id']}/reject", json={"reason": "trùng"}, headers=c.lead.headers
        )
        assert_problem(again, 409)

    async def test_reject_needs_a_reason(self, world: World) -> None:
        c = await led(world)
        made_ = await made(world, c)
        target = f"{URL}/{made_['id']}/reject"
        response = await world.client.post(
            target, json={"outcome": "không"}, headers=c.lead.headers
        )
        assert_problem(response, 422)
        response = await world.client.post(
            target, json={"reason": "Không xác minh được danh tính"}, headers=c.lead.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "rejected"

    async def test_another_agency_gets_404(self, world: World) -> None:
        c = await led(world)
        made_ = await made(world, c)
        stranger = await world.user(Role.SUPERVISOR, await world.agency("social_affairs", "01"))
        for verb, payload in (("complete", {"outcome": "x"}), ("reject", {"reason": "x"})):
            response = await world.client.post(
                f"{URL}/{made_['id']}/{verb}", json=payload, headers=stranger.headers
            )
            assert_problem(response, 404)
        unknown = await world.client.post(
            f"{URL}/{uuid.uuid4()}/complete", json={"outcome": "x"}, headers=c.lead.headers
        )
        assert_problem(unknown, 404)


class TestRegister:
    async def test_lists_own_agencys_requests_with_texts(self, world: World) -> None:
        c = await led(world)
        mine = await made(world, c)
        elsewhere = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        other = Led(elsewhere, await open_case(world, elsewhere, intake_body()))
        await made(world, other)
        response = await world.client.get(URL, headers=c.lead.headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [i["id"] for i in items] == [mine["id"]]
        assert items[0]["note"] == NOTE

    async def test_case_filter_and_location(self, world: World) -> None:
        c = await led(world)
        # Another case of the same agency.
        other = Led(c.lead, await open_case(world, c.lead, intake_body()))
        response = await post(world, c.lead, body(c))
        await made(world, other)
        listed = await world.client.get(response.headers["Location"], headers=c.lead.headers)
        assert [i["id"] for i in listed.json()["items"]] == [response.json()["id"]]

    async def test_overdue_filter(self, world: World, engine: AsyncEngine) -> None:
        c = await led(world)
        late = await made(world, c)
        fresh = await made(world, c)
        done = await made(world, c)
        await world.client.post(
            f"{URL}/{done['id']}/complete", json={"outcome": "xong"}, headers=c.lead.headers
        )
        await _age(engine, late["id"], 1)
        await _age(engine, done["id"], 1)
        overdue = await world.client.get(f"{URL}?overdue=true", headers=c.lead.headers)
        assert [i["id"] for i in overdue.json()["items"]] == [late["id"]]
        assert overdue.json()["items"][0]["overdue"] is True
        others = await world.client.get(f"{URL}?overdue=false", headers=c.lead.headers)
        assert {i["id"] for i in others.json()["items"]} == {fresh["id"], done["id"]}

    async def test_overdue_is_announced_once(self, world: World, engine: AsyncEngine) -> None:
        c = await led(world)
        await register(
            world,
            await world.user(Role.AGENCY_ADMIN, c.lead.agency),
            PUBLIC_URL,
            ["data_request.overdue"],
        )
        late = await made(world, c)
        await made(world, c)
        assert await _events(engine) == []
        await _age(engine, late["id"], 1)
        for _ in range(2):
            response = await world.client.get(URL, headers=c.lead.headers)
            assert response.status_code == 200, response.text
        events = await _events(engine)
        assert len(events) == 1
        agency_id, payload = events[0]
        assert agency_id == c.lead.agency.id
        assert payload["data"]["data_request_id"] == late["id"]
        assert NOTE not in str(payload)

    async def test_hidden_from_roles_without_cases_read(self, world: World) -> None:
        analyst = await world.user(Role.ANALYST, await world.agency("social_affairs", "40"))
        assert_problem(await world.client.get(URL, headers=analyst.headers), 404)


async def _events(engine: AsyncEngine) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT agency_id, payload FROM webhook_events"
                " WHERE event_type = 'data_request.overdue'"
            )
        )
        return [(r.agency_id, r.payload) for r in rows]


async def test_the_worker_announces_overdue_requests(
    world: World, engine: AsyncEngine, app: FastAPI
) -> None:
    c = await led(world)
    admin = await world.user(Role.AGENCY_ADMIN, c.lead.agency)
    await register(world, admin, PUBLIC_URL, ["data_request.overdue"])
    late = await made(world, c)
    await _age(engine, late["id"], 2)
    assert await worker.run_periodic_jobs(app.state.sessionmaker) == 1
    assert [p["data"]["data_request_id"] for _, p in await _events(engine)] == [late["id"]]
    # Once only.
    assert await worker.run_periodic_jobs(app.state.sessionmaker) == 0
