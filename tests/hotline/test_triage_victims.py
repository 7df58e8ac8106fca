"""`open_case` with `victim_indexes`: one case per suspected victim chosen, all or none."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import ValidationFailed
from app.security.permissions import Role
from app.services import hotline_triage
from tests.conftest import Actor, World, assert_problem, fake
from tests.hotline.helpers import BASE, forward, operator, record_report

PURPOSE = {"X-Purpose-Of-Use": "case_management"}


def _victims(count: int) -> list[dict[str, Any]]:
    return [
        {
            "name": fake.unique.name(),
            "sex": sex,
            "approximate_age": age,
            "location": fake.address(),
        }
        for sex, age in zip(["female", "male", "female"][:count], [16, 24, 9], strict=False)
    ]


async def _forwarded(world: World, victims: list[dict[str, Any]]) -> tuple[uuid.UUID, Actor]:
    """A report naming `victims`, forwarded to a police agency; its case worker."""
    actor = await operator(world)
    police = await world.agency("police")
    worker = await world.user(Role.CASE_WORKER, police)
    report_id, _ = await record_report(world, actor, suspected_victims=victims)
    await forward(world, actor, report_id, police.id)
    return report_id, worker


async def _open(world: World, worker: Actor, report_id: uuid.UUID, **body: Any) -> Any:
    return await world.client.post(
        f"{BASE}/{report_id}/triage",
        json={"action": "open_case", **body},
        headers={**worker.headers, "If-Match": '"2"'},
    )


async def _cases_of(engine: AsyncEngine, report_id: uuid.UUID) -> list[Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, victim_person_id, intake_source FROM cases"
                " WHERE hotline_report_id = :id ORDER BY created_at"
            ),
            {"id": report_id},
        )
        return list(rows.all())


def _fields(problem: dict[str, object]) -> list[str]:
    errors = problem["errors"]
    assert isinstance(errors, list)
    return [str(e["field"]) for e in errors]


async def _status(world: World, worker: Actor, report_id: uuid.UUID) -> dict[str, Any]:
    shown = await world.client.get(f"{BASE}/{report_id}", headers=worker.headers)
    assert shown.status_code == 200, shown.text
    body: dict[str, Any] = shown.json()
    return body


class TestOneCasePerVictim:
    async def test_three_victims_give_three_linked_cases(
        self, world: World, engine: AsyncEngine
    ) -> None:
        victims = _victims(3)
        report_id, worker = await _forwarded(world, victims)
        response = await _open(world, worker, report_id, victim_indexes=[0, 1, 2])
        assert response.status_code == 200, response.text
        answer = response.json()
        assert len(answer["case_ids"]) == 3
        assert answer["case_id"] == answer["case_ids"][0]

        cases = await _cases_of(engine, report_id)
        assert [str(c.id) for c in cases] == answer["case_ids"]
        assert {c.intake_source for c in cases} == {"hotline"}
        assert len({c.victim_person_id for c in cases}) == 3
        reported = await _status(world, worker, report_id)
        assert reported["case_ids"] == answer["case_ids"]
        assert {v["person_id"] for v in reported["suspected_victims"]}.isdisjoint(
            {str(c.victim_person_id) for c in cases}
        )
        for case_id, victim in zip(answer["case_ids"], victims, strict=True):
            shown = await world.client.get(
                f"/api/v1/cases/{case_id}?reveal=identity", headers={**worker.headers, **PURPOSE}
            )
            assert shown.status_code == 200, shown.text
            assert shown.json()["victim"]["full_name"] == victim["name"]
            assert shown.json()["victim"]["sex"] == victim["sex"]

        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT * FROM persons"))).all()
        stored = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for row in rows
            for v in row
            if v is not None
        )
        for victim in victims:
            assert victim["name"].encode() not in stored

    async def test_chosen_victims_only_in_the_order_given(
        self, world: World, engine: AsyncEngine
    ) -> None:
        victims = _victims(3)
        report_id, worker = await _forwarded(world, victims)
        response = await _open(world, worker, report_id, victim_indexes=[2, 0])
        assert response.status_code == 200, response.text
        case_ids = response.json()["case_ids"]
        assert len(case_ids) == 2
        names = []
        for case_id in case_ids:
            shown = await world.client.get(
                f"/api/v1/cases/{case_id}?reveal=identity", headers={**worker.headers, **PURPOSE}
            )
            names.append(shown.json()["victim"]["full_name"])
        assert names == [victims[2]["name"], victims[0]["name"]]
        assert len(await _cases_of(engine, report_id)) == 2

    async def test_without_indexes_the_first_victim_as_before(
        self, world: World, engine: AsyncEngine
    ) -> None:
        victims = _victims(3)
        report_id, worker = await _forwarded(world, victims)
        response = await _open(world, worker, report_id)
        assert response.status_code == 200, response.text
        assert response.json()["case_ids"] == [response.json()["case_id"]]
        (case,) = await _cases_of(engine, report_id)
        shown = await world.client.get(
            f"/api/v1/cases/{case.id}?reveal=identity", headers={**worker.headers, **PURPOSE}
        )
        assert shown.json()["victim"]["full_name"] == victims[0]["name"]

    async def test_forward_and_close_open_no_case(self, world: World) -> None:
        actor = await operator(world)
        report_id, _ = await record_report(world, actor)
        response = await world.client.post(
            f"{BASE}/{report_id}/triage",
            json={"action": "close", "reason": "trùng"},
            headers={**actor.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.json()["case_ids"] == []


class TestBadIndexes:
    @pytest.mark.parametrize(
        ("indexes", "fields"),
        [
            ([0, 3], ["victim_indexes[1]"]),
            ([5, 1, 7], ["victim_indexes[0]", "victim_indexes[2]"]),
            ([], ["victim_indexes"]),
            ([1, 0, 1], ["victim_indexes[2]"]),
            ([-1], None),
            ("0", None),
        ],
    )
    async def test_bad_indexes_are_422_and_open_nothing(
        self, world: World, engine: AsyncEngine, indexes: Any, fields: list[str] | None
    ) -> None:
        report_id, worker = await _forwarded(world, _victims(3))
        problem = assert_problem(await _open(world, worker, report_id, victim_indexes=indexes), 422)
        named = _fields(problem)
        if fields is not None:
            assert named == fields
        assert named and all(f.startswith("victim_indexes") for f in named)
        assert await _cases_of(engine, report_id) == []
        shown = await _status(world, worker, report_id)
        assert (shown["status"], shown["case_ids"], shown["responded_at"] is not None) == (
            "forwarded",
            [],
            True,  # the forward was the answer
        )

    async def test_indexes_only_with_open_case(self, world: World) -> None:
        actor = await operator(world)
        report_id, _ = await record_report(world, actor)
        response = await world.client.post(
            f"{BASE}/{report_id}/triage",
            json={"action": "close", "reason": "x", "victim_indexes": [0]},
            headers={**actor.headers, "If-Match": '"1"'},
        )
        assert _fields(assert_problem(response, 422)) == ["victim_indexes"]

    async def test_an_unnamed_victim_is_422(self, world: World, engine: AsyncEngine) -> None:
        victims = [*_victims(1), {"sex": "female", "approximate_age": 12}]
        report_id, worker = await _forwarded(world, victims)
        problem = assert_problem(await _open(world, worker, report_id, victim_indexes=[0, 1]), 422)
        assert _fields(problem) == ["victim_indexes[1]"]
        assert await _cases_of(engine, report_id) == []

    async def test_a_failing_case_opens_none(
        self, world: World, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        report_id, worker = await _forwarded(world, _victims(3))
        real = hotline_triage.intake_case
        calls = []

        async def second_fails(*args: Any, **kwargs: Any) -> Any:
            opened = await real(*args, **kwargs)
            calls.append(opened.case.id)
            if len(calls) == 2:
                raise ValidationFailed([{"field": "victim", "message": "refused"}])
            return opened

        monkeypatch.setattr(hotline_triage, "intake_case", second_fails)
        assert_problem(await _open(world, worker, report_id, victim_indexes=[0, 1, 2]), 422)
        assert len(calls) == 2  # two cases were written, then rolled back
        assert await _cases_of(engine, report_id) == []
        async with engine.connect() as conn:
            orphans = await conn.execute(
                text("SELECT count(*) FROM cases WHERE id = ANY(:ids)"), {"ids": calls}
            )
        assert orphans.scalar_one() == 0
        assert (await _status(world, worker, report_id))["status"] == "forwarded"
