"""GET /api/v1/cases, /cases/{id} (masked, revealed), /cases/search."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import make_sessionmaker
from app.models import Case
from app.security.permissions import Role
from app.security.principal import Principal
from app.services.cases import read
from tests.audit.helpers import events_after, last_event_id
from tests.cases.intake_helpers import intake_body, open_case, years_ago
from tests.conftest import World, assert_problem

IDENTITY = ("full_name", "other_names", "date_of_birth", "national_id", "phone", "address")


class TestGetCase:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get(f"/api/v1/cases/{uuid.uuid4()}"), 401)

    async def test_masked_by_default(self, world: World, engine: AsyncEngine) -> None:
        worker = await world.user(Role.CASE_WORKER)
        body = intake_body()
        case = await open_case(world, worker, body)
        mark = await last_event_id(engine)
        response = await world.client.get(f"/api/v1/cases/{case['id']}", headers=worker.headers)
        assert response.status_code == 200
        assert response.headers["ETag"] == '"1"'
        victim = response.json()["victim"]
        assert victim["revealed"] is False
        for name in ("full_name", "national_id", "phone"):
            assert victim[name] and victim[name] != body["victim"][name]
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("case.read", "success")]

    async def test_reveal_needs_a_purpose(self, world: World, engine: AsyncEngine) -> None:
        worker = await world.user(Role.CASE_WORKER)
        body = intake_body()
        case = await open_case(world, worker, body)
        url = f"/api/v1/cases/{case['id']}?reveal=identity"
        problem = assert_problem(await world.client.get(url, headers=worker.headers), 422)
        assert problem["errors"][0]["field"] == "X-Purpose-Of-Use"  # type: ignore[index]
        bad = {**worker.headers, "X-Purpose-Of-Use": "curiosity"}
        assert_problem(await world.client.get(url, headers=bad), 422)
        mark = await last_event_id(engine)
        headers = {**worker.headers, "X-Purpose-Of-Use": "emergency"}
        response = await world.client.get(url, headers=headers)
        assert response.status_code == 200
        victim = response.json()["victim"]
        assert victim["revealed"] is True
        assert victim["full_name"] == body["victim"]["full_name"]
        assert victim["national_id"] == body["victim"]["national_id"]
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["purpose"], event["emergency"]) == (
            "case.reveal",
            "emergency",
            True,
        )
        assert "victim.full_name" in event["fields"]
        assert body["victim"]["full_name"] not in str(event)

    async def test_other_agency_gets_404_and_a_denied_row(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner = await world.user(Role.CASE_WORKER)
        stranger = await world.user(Role.SUPERVISOR)
        case = await open_case(world, owner)
        mark = await last_event_id(engine)
        response = await world.client.get(f"/api/v1/cases/{case['id']}", headers=stranger.headers)
        assert_problem(response, 404)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "case.read",
            "denied",
            "out_of_reach",
        )
        missing = await world.client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=owner.headers)
        assert_problem(missing, 404)

    async def test_colleague_in_owning_agency_can_read(self, world: World) -> None:
        owner = await world.user(Role.CASE_WORKER)
        colleague = await world.user(Role.CASE_WORKER, owner.agency)
        case = await open_case(world, owner)
        response = await world.client.get(f"/api/v1/cases/{case['id']}", headers=colleague.headers)
        assert response.status_code == 200


class TestListCases:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get("/api/v1/cases"), 401)

    async def test_lists_carry_no_identity(self, world: World, engine: AsyncEngine) -> None:
        worker = await world.user(Role.CASE_WORKER)
        other = await world.user(Role.CASE_WORKER)
        body = intake_body()
        mine = await open_case(world, worker, body)
        await open_case(world, other)
        mark = await last_event_id(engine)
        response = await world.client.get("/api/v1/cases", headers=worker.headers)
        assert response.status_code == 200
        items = response.json()["items"]
        assert [i["id"] for i in items] == [mine["id"]]
        assert "victim" not in items[0]
        text = response.text
        for name in ("full_name", "national_id", "phone"):
            assert body["victim"][name] not in text
        events = await events_after(engine, mark)
        assert [e["action"] for e in events] == ["case.list"]

    async def test_filters_and_pages(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        child = await open_case(world, worker, intake_body(date_of_birth=years_ago(10)))
        adult = await open_case(world, worker)
        late = await open_case(world, worker)
        await world.session.execute(
            update(Case)
            .where(Case.id == uuid.UUID(late["id"]))
            .values(next_due_at=datetime.now(UTC) - timedelta(days=1))
        )
        await world.session.commit()

        async def ids(query: str) -> list[str]:
            r = await world.client.get(f"/api/v1/cases?{query}", headers=worker.headers)
            assert r.status_code == 200, r.text
            return [i["id"] for i in r.json()["items"]]

        assert await ids("is_child=true") == [child["id"]]
        assert await ids("overdue=true") == [late["id"]]
        assert set(await ids("overdue=false")) == {child["id"], adult["id"]}
        assert set(await ids("status=received&is_child=false")) == {adult["id"], late["id"]}
        assert await ids(f"assigned_to={worker.id}") == []
        assert await ids("is_child=true&overdue=true") == []
        assert set(await ids("status=received")) == {child["id"], adult["id"], late["id"]}
        assert await ids("status=closed") == []
        assert await ids("province_code=01") == []
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        assert await ids(f"received_to={tomorrow}".replace("+", "%2B")) != []
        assert await ids(f"received_from={tomorrow}".replace("+", "%2B")) == []
        first = await world.client.get("/api/v1/cases?limit=2", headers=worker.headers)
        page = first.json()
        assert len(page["items"]) == 2 and page["next_cursor"]
        rest = await ids(f"limit=2&cursor={page['next_cursor']}")
        assert len(rest) == 1
        assert_problem(
            await world.client.get("/api/v1/cases?status=lost", headers=worker.headers), 422
        )


class TestSearchCases:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get("/api/v1/cases/search?phone=0912345678"), 401)

    async def test_exact_match_only_readable(self, world: World, engine: AsyncEngine) -> None:
        worker = await world.user(Role.CASE_WORKER)
        stranger = await world.user(Role.CASE_WORKER)
        body = intake_body()
        case = await open_case(world, worker, body)
        await open_case(world, stranger, intake_body(national_id=body["victim"]["national_id"]))
        v = body["victim"]
        mark = await last_event_id(engine)
        response = await world.client.get(
            "/api/v1/cases/search", params={"national_id": v["national_id"]}, headers=worker.headers
        )
        assert response.status_code == 200
        assert [i["id"] for i in response.json()["items"]] == [case["id"]]
        assert v["full_name"] not in response.text
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["reason"]) == ("case.search", "index:national_id")
        assert v["national_id"] not in str(event)
        by_name = await world.client.get(
            "/api/v1/cases/search",
            params={"full_name": v["full_name"], "date_of_birth": v["date_of_birth"]},
            headers=worker.headers,
        )
        assert [i["id"] for i in by_name.json()["items"]] == [case["id"]]
        none = await world.client.get(
            "/api/v1/cases/search", params={"phone": "0900000001"}, headers=worker.headers
        )
        assert none.json()["items"] == []

    async def test_service_finds_nothing_for_a_caller_without_case_read(
        self, world: World, app: FastAPI
    ) -> None:
        """The route's guard refuses such a caller first; the service's access rule
        holds on its own too: the owning agency's administrator (no `cases:read`)
        matches no case, its case worker does."""
        worker = await world.user(Role.CASE_WORKER)
        v = intake_body()
        await open_case(world, worker, v)
        agency = worker.agency
        admin = Principal(uuid.uuid4(), Role.AGENCY_ADMIN, agency.id, agency.kind, "40")
        own = Principal(worker.id, Role.CASE_WORKER, agency.id, agency.kind, "40")
        sessions = make_sessionmaker(app.state.engine)
        for who, found in ((admin, 0), (own, 1)):
            async with sessions() as session:
                items = await read.search_cases(
                    session,
                    app.state.keys,
                    app.state.indexer,
                    who,
                    national_id=v["victim"]["national_id"],
                )
                await session.rollback()
            assert len(items) == found

    async def test_needs_exactly_one_criterion(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        for query in ("", "?full_name=An", "?phone=0912345678&national_id=001234567890"):
            response = await world.client.get(
                f"/api/v1/cases/search{query}", headers=worker.headers
            )
            assert_problem(response, 422)
