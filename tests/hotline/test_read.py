"""`GET /api/v1/hotline-reports/{id}`: visibility, masking and reveal."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from app.security.principal import Principal
from app.services.persons import erase_person
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.hotline.helpers import BASE, forward, operator, record_report

PURPOSE = {"X-Purpose-Of-Use": "protection"}


class TestReadReport:
    async def test_anonymous_is_401(self, world: World) -> None:
        assert_problem(await world.client.get(f"{BASE}/{uuid.uuid4()}"), 401)

    async def test_unknown_report_is_404_without_a_row(
        self, world: World, engine: AsyncEngine
    ) -> None:
        actor = await operator(world)
        mark = await last_event_id(engine)
        response = await world.client.get(f"{BASE}/{uuid.uuid4()}", headers=actor.headers)
        assert_problem(response, 404)
        assert await events_after(engine, mark) == []

    async def test_other_agency_gets_404_and_a_denied_row(
        self, world: World, engine: AsyncEngine
    ) -> None:
        actor = await operator(world)
        report_id, _ = await record_report(world, actor)
        for stranger in (await operator(world), await world.user(Role.CASE_WORKER)):
            mark = await last_event_id(engine)
            response = await world.client.get(f"{BASE}/{report_id}", headers=stranger.headers)
            assert_problem(response, 404)
            events = await events_after(engine, mark)
            assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
                ("hotline_report.read", "denied", "out_of_reach")
            ]
            assert events[0]["resource_id"] == str(report_id)

    async def test_masked_by_default(self, world: World, engine: AsyncEngine) -> None:
        actor = await operator(world)
        colleague = await world.user(Role.HOTLINE_OPERATOR, actor.agency)
        report_id, body = await record_report(world, actor)
        mark = await last_event_id(engine)
        response = await world.client.get(f"{BASE}/{report_id}", headers=colleague.headers)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["revealed"] is False
        assert report["caller"]["name"] != body["caller"]["name"]
        assert "*" in report["caller"]["name"]
        assert report["caller"]["phone"] == "****5678"
        assert report["caller"]["relation"] is None
        assert report["summary"] is None
        victim = report["suspected_victims"][0]
        assert "*" in victim["name"]
        assert victim["location"] is None
        assert (victim["sex"], victim["approximate_age"]) == ("female", 16)
        for secret in (body["summary"], body["caller"]["name"], body["caller"]["relation"]):
            assert secret not in response.text
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["purpose"]) for e in events] == [
            ("hotline_report.read", "success", None)
        ]

    async def test_reveal_without_a_known_purpose_is_422_as_for_a_case(
        self, world: World, engine: AsyncEngine
    ) -> None:
        actor = await operator(world)
        report_id, body = await record_report(world, actor)
        url = f"{BASE}/{report_id}?reveal=identity"
        mark = await last_event_id(engine)
        for headers in (actor.headers, {**actor.headers, "X-Purpose-Of-Use": "curiosity"}):
            response = await world.client.get(url, headers=headers)
            problem = assert_problem(response, 422)
            assert problem["errors"][0]["field"] == "X-Purpose-Of-Use"  # type: ignore[index]
            assert body["summary"] not in response.text
        other = await world.client.get(
            f"{BASE}/{report_id}?reveal=everything", headers=actor.headers
        )
        assert_problem(other, 422)
        assert await events_after(engine, mark) == []  # nothing was read

    async def test_operator_reveals_with_purpose(self, world: World, engine: AsyncEngine) -> None:
        actor = await operator(world)
        report_id, body = await record_report(world, actor)
        mark = await last_event_id(engine)
        response = await world.client.get(
            f"{BASE}/{report_id}?reveal=identity", headers={**actor.headers, **PURPOSE}
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["revealed"] is True
        assert report["caller"]["name"] == body["caller"]["name"]
        assert report["caller"]["relation"] == body["caller"]["relation"]
        assert report["summary"] == body["summary"]
        victim = report["suspected_victims"][0]
        assert victim["name"] == body["suspected_victims"][0]["name"]
        assert victim["location"] == body["suspected_victims"][0]["location"]
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["purpose"]) for e in events] == [
            ("hotline_report.reveal", "success", "protection")
        ]
        assert "summary" in events[0]["fields"]
        assert body["summary"] not in repr(events[0])

    async def test_forward_target_reads_and_reveals(self, world: World) -> None:
        actor = await operator(world)
        police = await world.agency("police")
        worker = await world.user(Role.CASE_WORKER, police)
        report_id, body = await record_report(world, actor)
        assert_problem(await world.client.get(f"{BASE}/{report_id}", headers=worker.headers), 404)
        await forward(world, actor, report_id, police.id)
        response = await world.client.get(
            f"{BASE}/{report_id}?reveal=identity", headers={**worker.headers, **PURPOSE}
        )
        assert response.status_code == 200, response.text
        assert response.json()["summary"] == body["summary"]
        assert response.json()["forwarded_to_agency_id"] == str(police.id)

    async def test_erasing_the_caller_shreds_the_account_only(
        self, world: World, app: FastAPI
    ) -> None:
        actor = await operator(world)
        report_id, body = await record_report(world, actor)
        admin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"), login=False)
        shown = await world.client.get(f"{BASE}/{report_id}", headers=actor.headers)
        caller_id = uuid.UUID(shown.json()["caller"]["person_id"])
        principal = Principal(
            actor_id=admin.id,
            role=Role.SYSTEM_ADMIN,
            agency_id=admin.agency.id,
            agency_kind="national",
            province_code=None,
        )
        await erase_person(
            world.session, caller_id, principal=principal, legal_basis="Quyết định 1/QĐ (test)"
        )
        await world.session.commit()
        response = await world.client.get(
            f"{BASE}/{report_id}?reveal=identity", headers={**actor.headers, **PURPOSE}
        )
        report = response.json()
        assert report["caller"]["name"] == "[erased]"
        assert report["summary"] == "[erased]"
        assert report["suspected_victims"][0]["name"] == body["suspected_victims"][0]["name"]
