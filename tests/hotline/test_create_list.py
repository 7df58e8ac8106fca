"""`POST /api/v1/hotline-reports` and `GET /api/v1/hotline-reports`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.hotline.helpers import BASE, forward, operator, record_report, report_body

_ALL_ROWS = {
    "hotline_reports": "SELECT * FROM hotline_reports",
    "hotline_suspected_victims": "SELECT * FROM hotline_suspected_victims",
    "persons": "SELECT * FROM persons",
}


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    return str(value).encode()


class TestCreateReport:
    async def test_anonymous_is_401(self, world: World) -> None:
        assert_problem(await world.client.post(BASE, json=report_body()), 401)

    async def test_system_admin_gets_404_and_a_denied_row(
        self, world: World, engine: AsyncEngine
    ) -> None:
        admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        mark = await last_event_id(engine)
        response = await world.client.post(BASE, json=report_body(), headers=admin.headers)
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("access.denied", "denied")]

    async def test_case_worker_may_not_record(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        response = await world.client.post(BASE, json=report_body(), headers=worker.headers)
        assert_problem(response, 404)

    async def test_records_encrypted_report_and_audits_field_names(
        self, world: World, engine: AsyncEngine
    ) -> None:
        actor = await operator(world)
        mark = await last_event_id(engine)
        body = report_body()
        response = await world.client.post(BASE, json=body, headers=actor.headers)
        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == {
            "id",
            "received_at",
            "channel",
            "province_code",
            "urgency",
            "status",
            "created_by",
            "respond_by",
            "responded_at",
            "overdue",
        }
        assert created["status"] == "open"
        assert created["created_by"] == str(actor.id)

        secrets = [
            body["caller"]["name"],
            body["caller"]["relation"],
            body["summary"],
            body["suspected_victims"][0]["name"],
            body["suspected_victims"][0]["location"],
        ]
        async with engine.connect() as conn:
            for table, query in _ALL_ROWS.items():
                rows = (await conn.execute(text(query))).all()
                assert rows
                stored = b"".join(_as_bytes(v) for row in rows for v in row if v is not None)
                for secret in secrets:
                    assert secret.encode() not in stored, table
            kinds = (
                (await conn.execute(text("SELECT kind FROM persons ORDER BY kind"))).scalars().all()
            )
            owner = (
                await conn.execute(text("SELECT owner_agency_id FROM hotline_reports"))
            ).scalar_one()
        assert list(kinds) == ["hotline_caller", "reported_person"]
        assert owner == actor.agency.id

        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [
            ("hotline_report.create", "success")
        ]
        assert events[0]["resource_id"] == created["id"]
        assert "summary" in events[0]["fields"]
        flat = repr(events[0]).encode()
        for secret in secrets:
            assert secret.encode() not in flat

    async def test_idempotent_retry_returns_the_first_report(self, world: World) -> None:
        actor = await operator(world)
        headers = {**actor.headers, "Idempotency-Key": "call-1"}
        body = report_body()
        first = await world.client.post(BASE, json=body, headers=headers)
        again = await world.client.post(BASE, json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]

    async def test_anonymous_caller_without_victims(self, world: World) -> None:
        actor = await operator(world)
        body = report_body(caller={}, suspected_victims=[])
        response = await world.client.post(BASE, json=body, headers=actor.headers)
        assert response.status_code == 201, response.text

    async def test_unknown_channel_urgency_and_province_are_422(self, world: World) -> None:
        actor = await operator(world)
        for changes in (
            {"channel": "fax"},
            {"urgency": "whenever"},
            {"province_code": "99"},
            {"suspected_victims": [{"name": "X Y", "sex": "robot"}]},
            {"unexpected": True},
        ):
            response = await world.client.post(
                BASE, json=report_body(**changes), headers=actor.headers
            )
            assert_problem(response, 422)

    async def test_invalid_caller_phone_names_the_field_only(self, world: World) -> None:
        actor = await operator(world)
        body = report_body(caller={"name": "Nguyễn Văn A", "phone": "abc"})
        problem = assert_problem(
            await world.client.post(BASE, json=body, headers=actor.headers), 422
        )
        errors = problem["errors"]
        assert isinstance(errors, list)
        assert [e["field"] for e in errors] == ["caller.phone"]
        assert "abc" not in str(problem)


class TestListReports:
    async def test_anonymous_is_401(self, world: World) -> None:
        assert_problem(await world.client.get(BASE), 401)

    async def test_centre_sees_its_reports_without_identity_values(
        self, world: World, engine: AsyncEngine
    ) -> None:
        actor = await operator(world)
        colleague = await world.user(Role.HOTLINE_OPERATOR, actor.agency)
        stranger = await operator(world)
        mine, body = await record_report(world, actor)
        theirs, _ = await record_report(world, colleague)
        await record_report(world, stranger)

        mark = await last_event_id(engine)
        response = await world.client.get(BASE, headers=actor.headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert {i["id"] for i in items} == {str(mine), str(theirs)}
        assert set(items[0]) == {
            "id",
            "received_at",
            "channel",
            "province_code",
            "urgency",
            "status",
            "created_by",
            "respond_by",
            "responded_at",
            "overdue",
        }
        assert body["caller"]["name"] not in response.text
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("hotline_report.list", "success")]

    async def test_forward_target_lists_forwarded_reports_only(self, world: World) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        worker = await world.user(Role.CASE_WORKER, police)
        forwarded, _ = await record_report(world, actor)
        await record_report(world, actor)
        await forward(world, actor, forwarded, police.id)

        response = await world.client.get(BASE, headers=worker.headers)
        assert [i["id"] for i in response.json()["items"]] == [str(forwarded)]
        assert response.json()["items"][0]["status"] == "forwarded"

    async def test_status_filter_and_paging(self, world: World) -> None:
        actor = await operator(world)
        for _ in range(3):
            await record_report(world, actor)
        page = await world.client.get(f"{BASE}?limit=2&status=open", headers=actor.headers)
        assert len(page.json()["items"]) == 2
        cursor = page.json()["next_cursor"]
        rest = await world.client.get(f"{BASE}?limit=2&cursor={cursor}", headers=actor.headers)
        assert len(rest.json()["items"]) == 1
        closed = await world.client.get(f"{BASE}?status=closed", headers=actor.headers)
        assert closed.json()["items"] == []

    async def test_hidden_from_system_admin(self, world: World) -> None:
        admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        assert_problem(await world.client.get(BASE, headers=admin.headers), 404)

    async def test_unknown_status_is_422(self, world: World) -> None:
        actor = await operator(world)
        assert_problem(await world.client.get(f"{BASE}?status=lost", headers=actor.headers), 422)
