"""POST|GET /api/v1/cases/{id}/persons: relatives, accompanying minors, people who help
and witnesses added after intake (their protection and supports: test_case_persons_care)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from app.services.cases.intake import VIETNAM
from tests.audit.helpers import events_after, last_event_id
from tests.cases.intake_helpers import open_case, years_ago
from tests.conftest import Actor, World, assert_problem, fake
from tests.integration_clients.helpers import client_headers, register
from tests.participants.helpers import participation

KINDS = ("relative", "accompanying_minor", "helper", "witness")


def born_years_ago(years: int, days: int = 0) -> str:
    """A date of birth `years` (and `days`) before today in Vietnam, whose calendar
    says whether a person is under 18."""
    today = datetime.now(VIETNAM).date()
    return (today.replace(year=today.year - years) - timedelta(days=days)).isoformat()


def persons_url(case_id: Any) -> str:
    return f"/api/v1/cases/{case_id}/persons"


def person_body(kind: str = "relative", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "relation": "mẹ" if kind == "relative" else "hàng xóm",
        "full_name": fake.name(),
        "national_id": f"0{fake.numerify('##########')}1",
        "phone": f"09{fake.numerify('########')}",
        "address": fake.address(),
        "sex": "female",
        "nationality": "VN",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def add(world: World, actor: Actor, case_id: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = await world.client.post(persons_url(case_id), json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def lead_case(world: World) -> tuple[Actor, dict[str, Any]]:
    owner = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    return owner, await open_case(world, owner)


class TestAddPerson:
    async def test_anonymous_401(self, world: World) -> None:
        response = await world.client.post(persons_url(uuid.uuid4()), json=person_body())
        assert_problem(response, 401)

    @pytest.mark.parametrize("kind", KINDS)
    async def test_each_kind_is_added_masked_and_listed(self, world: World, kind: str) -> None:
        owner, case = await lead_case(world)
        body = person_body(kind)
        response = await world.client.post(
            persons_url(case["id"]), json=body, headers=owner.headers
        )
        assert response.status_code == 201, response.text
        added = response.json()
        assert response.headers["Location"] == f"{persons_url(case['id'])}/{added['id']}"
        assert (added["kind"], added["relation"], added["revealed"]) == (
            kind,
            body["relation"],
            False,
        )
        for name in ("full_name", "national_id", "phone", "address"):
            assert added[name] and added[name] != body[name]
        listed = await world.client.get(persons_url(case["id"]), headers=owner.headers)
        assert [p["id"] for p in listed.json()["items"]] == [added["id"]]
        one = await world.client.get(response.headers["Location"], headers=owner.headers)
        assert one.status_code == 200, one.text
        assert one.json() == added
        assert one.headers["ETag"] == '"1"'
        # The case read lists them too, masked, and its version moved on.
        read = await world.client.get(f"/api/v1/cases/{case['id']}", headers=owner.headers)
        assert read.headers["ETag"] == '"2"'
        assert [(p["id"], p["kind"]) for p in read.json()["persons"]] == [(added["id"], kind)]
        assert read.json()["persons"][0]["full_name"] == added["full_name"]
        minors = [m["person"]["id"] for m in read.json()["accompanying_minors"]]
        assert minors == ([added["id"]] if kind == "accompanying_minor" else [])

    async def test_identity_is_not_stored_in_clear(self, world: World, engine: AsyncEngine) -> None:
        owner, case = await lead_case(world)
        body = person_body(
            "witness",
            full_name="Vàng Thị Canarywitness",
            address="Bản Canaryaddr, xã Mường Tè",
        )
        headers = {**owner.headers, "Idempotency-Key": "witness-1"}
        response = await world.client.post(persons_url(case["id"]), json=body, headers=headers)
        assert response.status_code == 201, response.text
        dumped = ""
        async with engine.connect() as conn:
            for query in (
                "SELECT row_to_json(t)::text FROM persons t",
                "SELECT row_to_json(t)::text FROM case_persons t",
                "SELECT row_to_json(t)::text FROM case_timeline t",
                "SELECT row_to_json(t)::text FROM audit_events t",
                "SELECT row_to_json(t)::text FROM idempotency_keys t",
            ):
                dumped += str((await conn.execute(text(query))).all())
        assert "witness-1" in dumped  # the stored answer is searched too
        for value in ("Canarywitness", "Canaryaddr", body["national_id"][-6:], body["phone"][-6:]):
            assert value not in dumped

    async def test_audit_and_timeline_name_no_one(self, world: World, engine: AsyncEngine) -> None:
        owner, case = await lead_case(world)
        body = person_body("helper")
        mark = await last_event_id(engine)
        added = await add(world, owner, case["id"], body)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["person_id"]) == (
            "case_person.create",
            "success",
            uuid.UUID(added["id"]),
        )
        assert "full_name" in event["fields"]
        assert body["full_name"] not in str(event)
        timeline = await world.client.get(
            f"/api/v1/cases/{case['id']}/timeline", headers=owner.headers
        )
        (entry,) = [e for e in timeline.json()["items"] if e["kind"] == "person_added"]
        assert (entry["detail"], entry["ref_type"], entry["ref_id"]) == (
            "helper",
            "person",
            added["id"],
        )
        assert entry["actor_agency_id"] == str(owner.agency.id)
        assert body["full_name"] not in timeline.text

    async def test_other_agency_gets_404_and_a_denied_row(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner, case = await lead_case(world)
        added = await add(world, owner, case["id"], person_body())
        stranger = await world.user(Role.SUPERVISOR, await world.agency("police", "40"))
        mark = await last_event_id(engine)
        posted = await world.client.post(
            persons_url(case["id"]), json=person_body(), headers=stranger.headers
        )
        assert_problem(posted, 404)
        listed = await world.client.get(persons_url(case["id"]), headers=stranger.headers)
        assert_problem(listed, 404)
        one = await world.client.get(
            f"{persons_url(case['id'])}/{added['id']}", headers=stranger.headers
        )
        assert_problem(one, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("case_person.create", "denied", "out_of_reach"),
            ("case_person.list", "denied", "out_of_reach"),
            ("case_person.read", "denied", "out_of_reach"),
        ]

    async def test_a_participant_may_not_add_or_list(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await participation(world, kind="police", purpose="protection")
        mark = await last_event_id(engine)
        response = await world.client.post(
            persons_url(p.case["id"]), json=person_body(), headers=p.participant.headers
        )
        problem = assert_problem(response, 403)
        assert str(problem["type"]).endswith("case-role-required")
        listed = await world.client.get(persons_url(p.case["id"]), headers=p.participant.headers)
        assert_problem(listed, 403)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("case_person.create", "denied", "lead_only"),
            ("case_person.list", "denied", "lead_only"),
        ]

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"full_name": None, "national_id": None}, None),
            ({"kind": "victim"}, "kind"),
            ({"kind": "relative", "relation": None}, None),
            ({"relation": "mẹ 0912345678"}, "relation"),
            ({"age_estimate": 121}, "age_estimate"),
            ({"age_estimate": -1}, "age_estimate"),
            ({"age_estimate": 10, "date_of_birth": "2015-01-01"}, None),
            ({"nationality": "VNM"}, "nationality"),
            ({"hometown_province_code": "99"}, "hometown_province_code"),
            ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ],
    )
    async def test_invalid_bodies_422(
        self, world: World, overrides: dict[str, Any], field: str | None
    ) -> None:
        owner, case = await lead_case(world)
        body = {**person_body(), **overrides}
        body = {k: v for k, v in body.items() if v is not None}
        response = await world.client.post(
            persons_url(case["id"]), json=body, headers=owner.headers
        )
        problem = assert_problem(response, 422)
        if field is not None:
            fields = [str(e["field"]) for e in problem["errors"]]  # type: ignore[attr-defined]
            assert any(f.endswith(field) for f in fields), fields

    async def test_sex_and_nationality_may_be_unknown(self, world: World) -> None:
        owner, case = await lead_case(world)
        added = await add(world, owner, case["id"], {"kind": "witness", "full_name": fake.name()})
        assert (added["sex"], added["nationality"], added["relation"]) == ("unknown", None, None)

    async def test_a_national_id_alone_is_enough(self, world: World) -> None:
        owner, case = await lead_case(world)
        added = await add(
            world, owner, case["id"], {"kind": "helper", "national_id": "079188123457"}
        )
        assert added["full_name"] is None and added["national_id"].endswith("3457")


class TestAge:
    @pytest.mark.parametrize(
        ("kind", "overrides", "expected"),
        [
            ("accompanying_minor", {"age_estimate": 12}, (12, True, "estimate")),
            ("accompanying_minor", {"date_of_birth": years_ago(9)}, (None, True, "date_of_birth")),
            ("accompanying_minor", {}, (None, True, "presumed_minor")),
            ("relative", {"age_estimate": 45}, (45, False, "estimate")),
            ("witness", {"age_estimate": 15}, (15, True, "estimate")),
            ("relative", {"date_of_birth": born_years_ago(18)}, (None, False, "date_of_birth")),
            (
                "relative",
                {"date_of_birth": born_years_ago(18, days=-1)},
                (None, True, "date_of_birth"),
            ),
            ("helper", {}, (None, None, None)),
        ],
    )
    async def test_age_estimate_minor_and_basis(
        self,
        world: World,
        engine: AsyncEngine,
        kind: str,
        overrides: dict[str, Any],
        expected: tuple[Any, ...],
    ) -> None:
        owner, case = await lead_case(world)
        added = await add(world, owner, case["id"], person_body(kind, **overrides))
        assert (added["age_estimate"], added["is_minor"], added["age_basis"]) == expected
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    text(
                        "SELECT age_estimate, is_minor, age_basis FROM case_persons "
                        "WHERE person_id = :id"
                    ),
                    {"id": added["id"]},
                )
            ).one()
        assert tuple(stored) == expected

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"age_estimate": 18}, "age_estimate"),
            ({"date_of_birth": years_ago(20)}, "date_of_birth"),
        ],
    )
    async def test_an_accompanying_minor_shown_adult_is_422(
        self, world: World, overrides: dict[str, Any], field: str
    ) -> None:
        owner, case = await lead_case(world)
        response = await world.client.post(
            persons_url(case["id"]),
            json=person_body("accompanying_minor", **overrides),
            headers=owner.headers,
        )
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["field"] == field  # type: ignore[index]

    async def test_a_minor_from_intake_is_presumed_one(self, world: World) -> None:
        owner = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        from tests.cases.intake_helpers import intake_body

        body = intake_body()
        body["accompanying_minors"] = [{"full_name": fake.name(), "relation": "con"}]
        case = await open_case(world, owner, body)
        listed = await world.client.get(persons_url(case["id"]), headers=owner.headers)
        (minor,) = listed.json()["items"]
        assert (minor["kind"], minor["relation"], minor["is_minor"], minor["age_basis"]) == (
            "accompanying_minor",
            "con",
            True,
            "presumed_minor",
        )


class TestReadPersons:
    async def test_masked_by_default_revealed_with_a_purpose_and_audited(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner, case = await lead_case(world)
        bodies = [person_body("relative"), person_body("witness")]
        added = [await add(world, owner, case["id"], b) for b in bodies]
        url = persons_url(case["id"])
        mark = await last_event_id(engine)
        masked = await world.client.get(url, headers=owner.headers)
        assert masked.status_code == 200, masked.text
        for item in masked.json()["items"]:
            assert item["revealed"] is False
        assert not any(b["full_name"] in masked.text for b in bodies)
        problem = assert_problem(
            await world.client.get(url, params={"reveal": "identity"}, headers=owner.headers), 422
        )
        assert problem["errors"][0]["field"] == "X-Purpose-Of-Use"  # type: ignore[index]
        revealed = await world.client.get(
            url,
            params={"reveal": "identity"},
            headers={**owner.headers, "X-Purpose-Of-Use": "protection"},
        )
        assert revealed.status_code == 200, revealed.text
        by_id = {p["id"]: p for p in revealed.json()["items"]}
        for body, person in zip(bodies, added, strict=True):
            shown = by_id[person["id"]]
            assert shown["revealed"] is True
            assert (shown["full_name"], shown["national_id"]) == (
                body["full_name"],
                body["national_id"],
            )
        one = await world.client.get(
            f"{url}/{added[0]['id']}",
            params={"reveal": "identity"},
            headers={**owner.headers, "X-Purpose-Of-Use": "case_management"},
        )
        assert one.json()["full_name"] == bodies[0]["full_name"]
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events[:1]] == [
            ("case_person.list", "success")
        ]
        reveals = [e for e in events if e["action"] == "case_person.reveal"]
        first, second = added[0]["id"], added[1]["id"]
        assert sorted((str(e["person_id"]), e["purpose"]) for e in reveals) == sorted(
            [(first, "protection"), (second, "protection"), (first, "case_management")]
        )
        assert all("persons.full_name" in e["fields"] for e in reveals)
        assert not any(b["full_name"] in str(events) for b in bodies)

    async def test_an_integration_client_gets_no_identity_and_cannot_reveal(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner, case = await lead_case(world)
        added = await add(world, owner, case["id"], person_body("witness"))
        admin = await world.user(Role.AGENCY_ADMIN, owner.agency)
        headers = await client_headers(world, await register(world, ("cases:read",), admin=admin))
        url = persons_url(case["id"])
        listed = await world.client.get(url, headers=headers)
        assert listed.status_code == 200, listed.text
        (item,) = listed.json()["items"]
        assert item["id"] == added["id"] and item["kind"] == "witness"
        for name in ("full_name", "national_id", "phone", "address"):
            assert item[name] is None, name
        mark = await last_event_id(engine)
        revealed = await world.client.get(
            url,
            params={"reveal": "identity"},
            headers={**headers, "X-Purpose-Of-Use": "protection"},
        )
        assert_problem(revealed, 403)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["actor_type"]) == (
            "case_person.reveal",
            "denied",
            "client",
        )

    async def test_the_victim_and_strangers_are_not_persons_of_the_list(self, world: World) -> None:
        owner, case = await lead_case(world)
        other_owner, other_case = await lead_case(world)
        elsewhere = await add(world, other_owner, other_case["id"], person_body())
        base = persons_url(case["id"])
        for person_id in (case["victim"]["id"], elsewhere["id"], str(uuid.uuid4())):
            assert_problem(
                await world.client.get(f"{base}/{person_id}", headers=owner.headers), 404
            )
        listed = await world.client.get(base, headers=owner.headers)
        assert listed.json() == {"items": [], "next_cursor": None}

    async def test_pages_newest_first(self, world: World) -> None:
        owner, case = await lead_case(world)
        added = [await add(world, owner, case["id"], person_body(k)) for k in KINDS[:3]]
        url = persons_url(case["id"])
        first = (await world.client.get(url, params={"limit": 2}, headers=owner.headers)).json()
        assert [p["id"] for p in first["items"]] == [added[2]["id"], added[1]["id"]]
        rest = await world.client.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=owner.headers
        )
        assert [p["id"] for p in rest.json()["items"]] == [added[0]["id"]]
        assert rest.json()["next_cursor"] is None
