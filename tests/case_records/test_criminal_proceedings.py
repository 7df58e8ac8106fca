"""The criminal proceedings a case belongs to: who records them, the sealed reference,
the forward-only stage and the stamps the returns count."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Case
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.case_records.factories import make_case, worker
from tests.conftest import Actor, World, assert_problem
from tests.participants.helpers import participation

REFERENCE = "Vụ án số 12/2026/CSHS-PC02"


def url(case_id: object, tail: str = "") -> str:
    return f"/api/v1/cases/{case_id}/criminal-proceedings{tail}"


def body(**extra: object) -> dict[str, object]:
    return {"reference": REFERENCE, "stage": "investigating", **extra}


async def record(world: World, who: Actor, case_id: object, **extra: object) -> dict[str, Any]:
    response = await world.client.post(url(case_id), json=body(**extra), headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def change(
    world: World, who: Actor, case_id: object, row: dict[str, Any], **fields: object
) -> Any:
    return await world.client.patch(
        url(case_id, f"/{row['id']}"),
        json=fields,
        headers={**who.headers, "If-Match": f'"{row["version"]}"'},
    )


async def listed(world: World, who: Actor, case_id: object) -> list[dict[str, Any]]:
    response = await world.client.get(url(case_id), headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def police_case(world: World) -> tuple[Actor, Case]:
    owner = await worker(world, "police")
    return owner, await make_case(world, owner)


class TestWhoRecords:
    async def test_police_lead_records_sealed_audited_and_on_the_timeline(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner, case = await police_case(world)
        mark = await last_event_id(engine)
        created = await record(world, owner, case.id)
        assert created["reference"] == REFERENCE  # as written
        assert created["investigating_agency_id"] == str(owner.agency.id)  # the default
        assert (created["stage"], created["outcome"], created["version"]) == (
            "investigating",
            None,
            1,
        )
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["person_id"]) for e in events] == [
            ("criminal_proceeding.create", "success", case.victim_person_id)
        ]
        async with engine.connect() as conn:
            stored = (
                await conn.execute(text("SELECT reference FROM criminal_proceedings"))
            ).scalar_one()
            detail = (
                await conn.execute(
                    text("SELECT detail FROM case_timeline WHERE ref_id = :id"),
                    {"id": created["id"]},
                )
            ).scalar_one()
        assert REFERENCE.encode() not in bytes(stored)
        assert b"12/2026" not in bytes(stored)
        assert detail == "investigating"
        [row] = await listed(world, owner, case.id)
        assert row["reference"] == REFERENCE

    async def test_border_guard_lead_records(self, world: World) -> None:
        owner = await worker(world, "border_guard")
        case = await make_case(world, owner)
        created = await record(world, owner, case.id, stage="reported")
        assert created["investigating_agency_id"] == str(owner.agency.id)

    async def test_social_affairs_lead_403_naming_the_function_but_reads(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner = await worker(world, "social_affairs")
        case = await make_case(world, owner)
        police = await world.agency("police")
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case.id),
            json=body(investigating_agency_id=str(police.id)),
            headers=owner.headers,
        )
        problem = assert_problem(response, 403)
        assert str(problem["type"]).endswith("agency-function-required")
        assert "'investigate'" in str(problem["detail"])
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            (
                "criminal_proceeding.create",
                "denied",
                "missing_function:investigate:investigate_border",
            )
        ]
        assert await listed(world, owner, case.id) == []

    async def test_police_participant_records_on_the_leads_case(self, world: World) -> None:
        p = await participation(world, kind="police", purpose="investigation")
        created = await record(world, p.participant, p.case["id"], stage="reported")
        assert created["case_id"] == p.case["id"]
        assert created["agency_id"] == str(p.participant.agency.id)
        # The social-affairs lead reads it, reference included.
        [row] = await listed(world, p.lead, p.case["id"])
        assert (row["id"], row["reference"]) == (created["id"], REFERENCE)
        moved = await change(world, p.participant, p.case["id"], created, stage="investigating")
        assert moved.status_code == 200, moved.text
        # The lead may read, not record.
        response = await change(world, p.lead, p.case["id"], moved.json(), stage="prosecuted")
        assert str(assert_problem(response, 403)["type"]).endswith("agency-function-required")

    async def test_identification_role_records(self, world: World) -> None:
        p = await participation(world, kind="police", purpose="identification")
        await record(world, p.participant, p.case["id"])

    async def test_support_participant_403(self, world: World, engine: AsyncEngine) -> None:
        p = await participation(world, kind="police", purpose="support", services=["medical"])
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(p.case["id"]), json=body(), headers=p.participant.headers
        )
        assert str(assert_problem(response, 403)["type"]).endswith("case-role-required")
        listing = await world.client.get(url(p.case["id"]), headers=p.participant.headers)
        assert_problem(listing, 403)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [
            ("criminal_proceeding.create", "denied"),
            ("criminal_proceeding.list", "denied"),
        ]

    async def test_investigation_participant_without_the_function_403(self, world: World) -> None:
        p = await participation(world, kind="health", purpose="investigation")
        response = await world.client.post(
            url(p.case["id"]), json=body(), headers=p.participant.headers
        )
        assert str(assert_problem(response, 403)["type"]).endswith("agency-function-required")

    async def test_other_agency_404(self, world: World, engine: AsyncEngine) -> None:
        owner, case = await police_case(world)
        created = await record(world, owner, case.id)
        other = await worker(world, "police")
        mark = await last_event_id(engine)
        for response in (
            await world.client.post(url(case.id), json=body(), headers=other.headers),
            await world.client.get(url(case.id), headers=other.headers),
            await change(world, other, case.id, created, stage="prosecuted"),
        ):
            assert_problem(response, 404)
            assert REFERENCE not in response.text
        events = await events_after(engine, mark)
        assert {(e["action"], e["reason"]) for e in events} == {
            ("criminal_proceeding.create", "out_of_reach"),
            ("criminal_proceeding.list", "out_of_reach"),
            ("criminal_proceeding.update", "out_of_reach"),
        }

    async def test_a_participant_sees_and_changes_only_its_own(self, world: World) -> None:
        police = await participation(world, kind="police", purpose="investigation")
        case_id = police.case["id"]
        border = await world.user(Role.CASE_WORKER, await world.agency("border_guard"))
        referral = await world.client.post(
            "/api/v1/referrals",
            json={
                "case_id": case_id,
                "to_agency_id": str(border.agency.id),
                "purpose": "investigation",
                "consent_id": police.consent_id,
                "shared_fields": ["victim.sex"],
                "note": "Phối hợp điều tra (thử)",
            },
            headers=police.lead.headers,
        )
        assert referral.status_code == 201, referral.text
        accepted = await world.client.post(
            f"/api/v1/referrals/{referral.json()['id']}/accept",
            json={"note": "nhận"},
            headers=border.headers,
        )
        assert accepted.status_code == 200, accepted.text
        by_police = await record(world, police.participant, case_id)
        by_border = await record(world, border, case_id, stage="reported")
        assert [r["id"] for r in await listed(world, border, case_id)] == [by_border["id"]]
        assert [r["id"] for r in await listed(world, police.participant, case_id)] == [
            by_police["id"]
        ]
        response = await change(world, border, case_id, by_police, stage="prosecuted")
        assert_problem(response, 404)
        # Several proceedings on one case: the lead sees both, newest first.
        lead_sees = [r["id"] for r in await listed(world, police.lead, case_id)]
        assert lead_sees == [by_border["id"], by_police["id"]]


class TestInvestigatingAgency:
    async def test_must_be_police_or_border_guard_422(self, world: World) -> None:
        owner, case = await police_case(world)
        health = await world.agency("health")
        inactive = await world.agency("police")
        inactive.is_active = False
        world.session.add(inactive)
        await world.session.commit()
        for agency_id in (health.id, inactive.id, uuid.uuid4()):
            response = await world.client.post(
                url(case.id),
                json=body(investigating_agency_id=str(agency_id)),
                headers=owner.headers,
            )
            problem = assert_problem(response, 422)
            assert problem["errors"][0]["field"] == "investigating_agency_id"  # type: ignore[index]

    async def test_border_guard_may_name_the_police(self, world: World) -> None:
        owner = await worker(world, "border_guard")
        case = await make_case(world, owner)
        police = await world.agency("police")
        created = await record(world, owner, case.id, investigating_agency_id=str(police.id))
        assert created["investigating_agency_id"] == str(police.id)


class TestStages:
    async def test_outcome_only_where_the_stage_takes_it_422(self, world: World) -> None:
        owner, case = await police_case(world)
        for extra in (
            {"stage": "investigating", "outcome": "convicted"},
            {"stage": "closed"},
            {"stage": "tried", "outcome": "dismissed"},
            {"stage": "arrested"},
            {"reference": ""},
        ):
            response = await world.client.post(
                url(case.id), json=body(**extra), headers=owner.headers
            )
            assert_problem(response, 422)

    async def test_the_stage_cannot_move_backwards_and_closed_is_final(self, world: World) -> None:
        owner, case = await police_case(world)
        row = await record(world, owner, case.id, stage="prosecuted")
        back = await change(world, owner, case.id, row, stage="investigating")
        problem = assert_problem(back, 409)
        assert str(problem["type"]).endswith("proceeding-stage")
        closed = await change(world, owner, case.id, row, stage="closed", outcome="dismissed")
        assert closed.status_code == 200, closed.text
        again = await change(world, owner, case.id, closed.json(), reference="Vụ án số 13/2026")
        assert_problem(again, 409)
        [stored] = await listed(world, owner, case.id)
        assert (stored["stage"], stored["outcome"], stored["reference"]) == (
            "closed",
            "dismissed",
            REFERENCE,
        )

    async def test_preconditions_428_412(self, world: World) -> None:
        owner, case = await police_case(world)
        row = await record(world, owner, case.id)
        path = url(case.id, f"/{row['id']}")
        plain = await world.client.patch(path, json={"stage": "tried"}, headers=owner.headers)
        assert_problem(plain, 428)
        stale = await world.client.patch(
            path, json={"stage": "tried"}, headers={**owner.headers, "If-Match": '"9"'}
        )
        assert_problem(stale, 412)
        assert stale.headers["ETag"] == f'"{row["version"]}"'  # the current version

    async def test_stamps_resolved_and_tried(self, world: World, engine: AsyncEngine) -> None:
        owner, case = await police_case(world)
        row = await record(world, owner, case.id, stage="reported")
        assert (row["resolved_at"], row["tried_at"]) == (None, None)
        investigating = await change(world, owner, case.id, row, stage="investigating")
        assert investigating.json()["resolved_at"] is None
        prosecuted = (
            await change(world, owner, case.id, investigating.json(), stage="prosecuted")
        ).json()
        assert prosecuted["resolved_at"] is not None and prosecuted["tried_at"] is None
        response = await change(world, owner, case.id, prosecuted, stage="tried")
        tried = response.json()
        assert response.headers["ETag"] == '"4"'
        assert tried["tried_at"] is not None and tried["outcome"] is None
        assert tried["resolved_at"] == prosecuted["resolved_at"]  # kept once set
        verdict = (await change(world, owner, case.id, tried, outcome="convicted")).json()
        assert (verdict["stage"], verdict["outcome"]) == ("tried", "convicted")
        assert verdict["stage_changed_at"] == tried["stage_changed_at"]
        closed = (await change(world, owner, case.id, verdict, stage="closed")).json()
        assert (closed["outcome"], closed["tried_at"]) == ("convicted", tried["tried_at"])
        async with engine.connect() as conn:
            details = (
                await conn.execute(
                    text(
                        "SELECT detail FROM case_timeline WHERE ref_id = :id ORDER BY occurred_at"
                    ),
                    {"id": row["id"]},
                )
            ).scalars()
            assert list(details) == [
                "reported",
                "investigating",
                "prosecuted",
                "tried",
                "tried:convicted",
                "closed:convicted",
            ]

    async def test_closing_with_a_verdict_counts_as_tried_a_suspension_not_resolved(
        self, world: World
    ) -> None:
        owner, case = await police_case(world)
        convicted = await record(world, owner, case.id, stage="closed", outcome="convicted")
        assert convicted["tried_at"] is not None and convicted["resolved_at"] is not None
        suspended = await record(world, owner, case.id, stage="closed", outcome="suspended")
        assert (suspended["resolved_at"], suspended["tried_at"]) == (None, None)
