"""POST /api/v1/cases: intake, numbering, child flags, possible duplicates."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Case, CasePerson
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.cases.intake_helpers import intake_body, open_case, years_ago
from tests.conftest import World, assert_problem, fake


class TestIntake:
    async def test_anonymous_401(self, world: World) -> None:
        response = await world.client.post("/api/v1/cases", json=intake_body())
        assert_problem(response, 401)

    async def test_roles_without_case_write_get_404(self, world: World) -> None:
        operator = await world.user(Role.HOTLINE_OPERATOR)
        response = await world.client.post(
            "/api/v1/cases", json=intake_body(), headers=operator.headers
        )
        assert_problem(response, 404)

    async def test_happy_path(self, world: World, engine: AsyncEngine) -> None:
        worker = await world.user(Role.CASE_WORKER)
        body = intake_body()
        body["accompanying_minors"] = [
            {"full_name": fake.name(), "date_of_birth": years_ago(6), "relation": "daughter"}
        ]
        mark = await last_event_id(engine)
        case = await open_case(world, worker, body)
        assert re.fullmatch(r"40-\d{4}-000001", case["case_number"])
        assert case["status"] == "received"
        assert case["owner_agency_id"] == str(worker.agency.id)
        assert case["possible_duplicates"] == []
        assert case["victim"]["revealed"] is False
        # Masked identity: neither the name nor the national ID appear.
        assert case["victim"]["full_name"] != body["victim"]["full_name"]
        assert body["victim"]["national_id"] not in str(case)
        assert case["victim"]["birth_year"] == 1998
        assert case["accompanying_minors"][0]["relation"] == "daughter"
        assert case["is_child"] is False and case["is_minor"] is False
        assert case["next_due_at"] is not None
        events = await events_after(engine, mark)
        create = [e for e in events if e["action"] == "case.create"]
        assert len(create) == 1
        assert create[0]["resource_id"] == case["id"]
        assert "victim.full_name" in create[0]["fields"]
        assert body["victim"]["full_name"] not in str(events)
        links = (
            await world.session.execute(
                select(CasePerson).where(CasePerson.case_id == uuid.UUID(case["id"]))
            )
        ).scalars()
        assert sorted(link.role for link in links) == ["minor", "victim"]

    async def test_victim_needs_name_or_id_and_sex_nationality(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        body = intake_body(full_name=None, national_id=None)
        response = await world.client.post("/api/v1/cases", json=body, headers=worker.headers)
        assert_problem(response, 422)
        body = intake_body()
        del body["victim"]["sex"]
        response = await world.client.post("/api/v1/cases", json=body, headers=worker.headers)
        assert_problem(response, 422)
        # National ID alone is enough, without a name.
        await open_case(world, worker, intake_body(full_name=None))

    async def test_unknown_province_and_future_date_are_422(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        for field, body in (
            ("received_location.province_code", intake_body()),
            ("received_at", intake_body()),
        ):
            if field == "received_at":
                body["received_at"] = "2999-01-01T00:00:00+07:00"
            else:
                body["received_location"] = {"province_code": "99"}
            response = await world.client.post("/api/v1/cases", json=body, headers=worker.headers)
            problem = assert_problem(response, 422)
            fields = {e["field"] for e in problem["errors"]}  # type: ignore[attr-defined]
            assert fields == {field}

    async def test_child_flags_from_age_at_reception(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        child = await open_case(world, worker, intake_body(date_of_birth=years_ago(15)))
        assert (child["is_child"], child["is_minor"]) == (True, True)
        minor = await open_case(world, worker, intake_body(date_of_birth=years_ago(17)))
        assert (minor["is_child"], minor["is_minor"]) == (False, True)
        turned_18 = await open_case(world, worker, intake_body(date_of_birth=years_ago(18, 2)))
        assert (turned_18["is_child"], turned_18["is_minor"]) == (False, False)
        unknown = await open_case(world, worker, intake_body(date_of_birth=None))
        # An unknown age is presumed a minor's until established.
        assert (unknown["is_child"], unknown["is_minor"]) == (False, True)
        assert unknown["age_basis"] == "presumed_minor"

    async def test_concurrent_intakes_get_serials_without_gaps(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        responses = await asyncio.gather(
            *(
                world.client.post("/api/v1/cases", json=intake_body(), headers=worker.headers)
                for _ in range(20)
            )
        )
        assert [r.status_code for r in responses] == [201] * 20
        serials = sorted(int(r.json()["case_number"].rsplit("-", 1)[1]) for r in responses)
        assert serials == list(range(1, 21))
        stored = (await world.session.execute(select(Case.serial))).scalars().all()
        assert sorted(stored) == serials

    async def test_idempotency_key_replays(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        headers = {**worker.headers, "Idempotency-Key": "intake-1"}
        body = intake_body()
        first = await world.client.post("/api/v1/cases", json=body, headers=headers)
        again = await world.client.post("/api/v1/cases", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"


class TestPossibleDuplicates:
    async def test_found_by_national_id_phone_and_name_with_birth_date(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        first = intake_body()
        original = await open_case(world, worker, first)
        v = first["victim"]
        by_id = await open_case(
            world, worker, intake_body(national_id=v["national_id"], phone=None)
        )
        by_phone = await open_case(
            world,
            worker,
            intake_body(phone=v["phone"], national_id=f"0{fake.numerify('##########')}2"),
        )
        by_name = await open_case(
            world,
            worker,
            intake_body(
                full_name=v["full_name"].upper(),
                date_of_birth=v["date_of_birth"],
                national_id=None,
                phone=None,
            ),
        )
        expected = {"case_id": original["id"], "case_number": original["case_number"]}
        assert by_id["possible_duplicates"][0] == {**expected, "match": "national_id"}
        assert {**expected, "match": "phone"} in by_phone["possible_duplicates"]
        assert by_name["possible_duplicates"][0] == {**expected, "match": "name_and_birth_date"}

    async def test_duplicates_in_other_agencies_stay_hidden(self, world: World) -> None:
        mine = await world.user(Role.CASE_WORKER)
        theirs = await world.user(Role.CASE_WORKER)
        body = intake_body()
        await open_case(world, theirs, body)
        again = await open_case(world, mine, intake_body(national_id=body["victim"]["national_id"]))
        assert again["possible_duplicates"] == []


async def test_times_are_answered_in_utc(world: World) -> None:
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    body = intake_body()
    body["received_at"] = "2026-11-20T08:00:00+07:00"
    case = await open_case(world, worker, body)
    assert case["received_at"] in ("2026-11-20T01:00:00Z", "2026-11-20T01:00:00+00:00")
    assert case["case_number"].startswith("40-2026-")


async def test_hotline_report_must_be_one_the_agency_can_read(world: World) -> None:
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    body = intake_body()
    body["hotline_report_id"] = str(uuid.uuid4())
    response = await world.client.post("/api/v1/cases", json=body, headers=worker.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "hotline_report_id"


async def test_a_victim_person_belongs_to_one_case(world: World, engine: AsyncEngine) -> None:
    """The database refuses a second case on the same victim person (intake always makes
    a new person; this is the guarantee, not the habit)."""
    worker = await world.user(Role.CASE_WORKER)
    case = await open_case(world, worker, intake_body())
    async with engine.connect() as conn:
        await conn.execute(
            text("CREATE TEMP TABLE copied AS SELECT * FROM cases WHERE id = :id"),
            {"id": case["id"]},
        )
        await conn.execute(
            text(
                "UPDATE copied SET id = gen_random_uuid(), serial = serial + 500000, "
                "case_number = case_number || '-copy'"
            )
        )
        with pytest.raises(IntegrityError, match="ix_cases_victim_person_id"):
            await conn.execute(text("INSERT INTO cases SELECT * FROM copied"))
