"""Protection measures on a case."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Case
from tests.audit.helpers import events_after, last_event_id
from tests.case_records.factories import add_person, make_case, worker
from tests.conftest import World, assert_problem


def url(case: Case, tail: str) -> str:
    return f"/api/v1/cases/{case.id}/{tail}"


def measure_body(agency_id: uuid.UUID, **extra: object) -> dict[str, object]:
    return {
        "measure": "safe_shelter",
        "protected_person": "victim",
        "start": "2026-11-20",
        "end": "2026-12-20",
        "status": "active",
        "responsible_agency_id": str(agency_id),
        **extra,
    }


class TestCreateProtectionMeasure:
    async def test_anonymous_401(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        response = await world.client.post(
            url(case, "protection-measures"), json=measure_body(owner.agency.id)
        )
        assert_problem(response, 401)

    async def test_other_agency_404_and_denied_row(self, world: World, engine: AsyncEngine) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        other = await worker(world)
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, "protection-measures"),
            json=measure_body(owner.agency.id),
            headers=other.headers,
        )
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["reason"]) for e in events] == [
            ("protection_measure.create", "out_of_reach")
        ]

    async def test_invalid_422(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        stranger_person = await add_person(world, await make_case(world, owner), "relative")
        for body in (
            measure_body(owner.agency.id, status="refused"),  # refusal without its reason
            measure_body(owner.agency.id, refusal_reason="Không muốn"),  # reason, not refused
            measure_body(uuid.uuid4()),  # no such agency
            measure_body(owner.agency.id, end="2026-01-01"),  # ends before it starts
            measure_body(owner.agency.id, measure="curfew"),
            measure_body(
                owner.agency.id,
                protected_person="relative",
                protected_person_id=str(stranger_person),
            ),
        ):
            response = await world.client.post(
                url(case, "protection-measures"), json=body, headers=owner.headers
            )
            assert_problem(response, 422)

    async def test_happy_path_timeline_and_audit(self, world: World, engine: AsyncEngine) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        relative = await add_person(world, case, "relative")
        police = await world.agency("police")
        body = measure_body(
            police.id,
            measure="guard",
            protected_person="relative",
            protected_person_id=str(relative),
            status="refused",
            refusal_reason="Người thân từ chối bằng văn bản ngày 20/11",
        )
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, "protection-measures"), json=body, headers=owner.headers
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["refusal_reason"] == body["refusal_reason"]  # as written
        assert (created["status"], created["version"]) == ("refused", 1)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [
            ("protection_measure.create", "success")
        ]
        async with engine.connect() as conn:
            detail = (
                await conn.execute(
                    text("SELECT detail FROM case_timeline WHERE ref_id = :id"),
                    {"id": created["id"]},
                )
            ).scalar_one()
            stored = (
                await conn.execute(text("SELECT refusal_reason FROM protection_measures"))
            ).scalar_one()
        assert detail == "guard:refused"
        assert "từ chối".encode() not in bytes(stored)
        listed = await world.client.get(url(case, "protection-measures"), headers=owner.headers)
        assert [m["id"] for m in listed.json()["items"]] == [created["id"]]
        assert listed.json()["items"][0]["refusal_reason"] == body["refusal_reason"]


class TestUpdateProtectionMeasure:
    async def _measure(self, world: World) -> tuple[dict[str, str], Case, dict[str, object]]:
        owner = await worker(world)
        case = await make_case(world, owner)
        response = await world.client.post(
            url(case, "protection-measures"),
            json=measure_body(owner.agency.id, status="planned"),
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text
        return owner.headers, case, response.json()

    async def test_anonymous_401(self, world: World) -> None:
        _, case, measure = await self._measure(world)
        response = await world.client.patch(
            url(case, f"protection-measures/{measure['id']}"), json={"status": "active"}
        )
        assert_problem(response, 401)

    async def test_other_agency_404(self, world: World, engine: AsyncEngine) -> None:
        _, case, measure = await self._measure(world)
        other = await worker(world)
        mark = await last_event_id(engine)
        response = await world.client.patch(
            url(case, f"protection-measures/{measure['id']}"),
            json={"status": "active"},
            headers={**other.headers, "If-Match": '"1"'},
        )
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["reason"]) for e in events] == [
            ("protection_measure.update", "out_of_reach")
        ]

    async def test_preconditions_428_412(self, world: World) -> None:
        headers, case, measure = await self._measure(world)
        path = url(case, f"protection-measures/{measure['id']}")
        assert_problem(
            await world.client.patch(path, json={"status": "active"}, headers=headers), 428
        )
        stale = {**headers, "If-Match": '"7"'}
        refused = await world.client.patch(path, json={"status": "active"}, headers=stale)
        assert_problem(refused, 412)
        assert refused.headers["ETag"] == f'"{measure["version"]}"'  # the current version

    async def test_refusal_needs_reason_422(self, world: World) -> None:
        headers, case, measure = await self._measure(world)
        response = await world.client.patch(
            url(case, f"protection-measures/{measure['id']}"),
            json={"status": "refused"},
            headers={**headers, "If-Match": '"1"'},
        )
        assert_problem(response, 422)

    async def test_happy_path(self, world: World, engine: AsyncEngine) -> None:
        headers, case, measure = await self._measure(world)
        mark = await last_event_id(engine)
        response = await world.client.patch(
            url(case, f"protection-measures/{measure['id']}"),
            json={"status": "ended", "end": "2026-11-30"},
            headers={**headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        assert (response.json()["status"], response.json()["end"]) == ("ended", "2026-11-30")
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [
            ("protection_measure.update", "success")
        ]


class TestListProtectionMeasures:
    async def test_anonymous_401(self, world: World) -> None:
        case = await make_case(world, await worker(world))
        assert_problem(await world.client.get(url(case, "protection-measures")), 401)

    async def test_other_agency_404(self, world: World) -> None:
        case = await make_case(world, await worker(world))
        other = await worker(world)
        response = await world.client.get(url(case, "protection-measures"), headers=other.headers)
        assert_problem(response, 404)

    async def test_bad_limit_422(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        response = await world.client.get(
            url(case, "protection-measures?limit=101"), headers=owner.headers
        )
        assert_problem(response, 422)

    async def test_pages_and_audit(self, world: World, engine: AsyncEngine) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        for _ in range(3):
            response = await world.client.post(
                url(case, "protection-measures"),
                json=measure_body(owner.agency.id),
                headers=owner.headers,
            )
            assert response.status_code == 201, response.text
        mark = await last_event_id(engine)
        first = await world.client.get(
            url(case, "protection-measures?limit=2"), headers=owner.headers
        )
        assert len(first.json()["items"]) == 2
        cursor = first.json()["next_cursor"]
        second = await world.client.get(
            url(case, f"protection-measures?limit=2&cursor={cursor}"), headers=owner.headers
        )
        assert len(second.json()["items"]) == 1 and second.json()["next_cursor"] is None
        events = await events_after(engine, mark)
        assert [e["action"] for e in events] == ["protection_measure.list"] * 2
