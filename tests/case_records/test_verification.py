"""The initial verification record: `POST|GET /api/v1/cases/{id}/verification`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Agency, Case
from tests.audit.helpers import events_after, last_event_id
from tests.case_records.factories import make_case, worker
from tests.conftest import Actor, World, assert_problem, fake
from tests.participants.helpers import participation

LATER = (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def url(case_id: object) -> str:
    return f"/api/v1/cases/{case_id}/verification"


def body(*agencies: Agency, **values: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "outcome": "grounds_found",
        "completed_at": datetime.now(UTC).isoformat(),
        "agency_ids": [str(a.id) for a in agencies],
        "note": f"Đã xác minh cùng công an tỉnh; {fake.name()} xác nhận lời khai",
    }
    made.update(values)
    return made


async def record(world: World, actor: Actor, case_id: object, **values: Any) -> dict[str, Any]:
    response = await world.client.post(
        url(case_id), json=body(actor.agency, **values), headers=actor.headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


class TestRecord:
    async def test_anonymous_401(self, world: World) -> None:
        case = await make_case(world, await worker(world))
        assert_problem(await world.client.post(url(case.id), json=body()), 401)

    async def test_201_location_no_plaintext_timeline_audit(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner = await worker(world)
        police = await world.agency("police", "40")
        case = await make_case(world, owner)
        sent = body(owner.agency, police)
        mark = await last_event_id(engine)
        response = await world.client.post(url(case.id), json=sent, headers=owner.headers)
        assert response.status_code == 201, response.text
        assert response.headers["Location"] == f"/api/v1/cases/{case.id}/verification"
        created = response.json()
        # The create's answer shows what was written.
        assert created["note"] == sent["note"]
        assert (created["outcome"], created["agency_id"]) == ("grounds_found", str(owner.agency.id))
        assert created["agency_ids"] == [str(owner.agency.id), str(police.id)]
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("verification.create", "success", "grounds_found")
        ]
        assert str(events[0]["resource_id"]) == created["id"]
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    text("SELECT note FROM case_verifications WHERE id = :id"),
                    {"id": created["id"]},
                )
            ).scalar_one()
            timeline = (
                await conn.execute(
                    text(
                        "SELECT kind, detail, ref_id FROM case_timeline WHERE case_id = :id "
                        "AND kind = 'verification_recorded'"
                    ),
                    {"id": case.id},
                )
            ).one()
            verified_at, version = (
                await conn.execute(
                    text("SELECT verified_at, version FROM cases WHERE id = :id"), {"id": case.id}
                )
            ).one()
        assert str(sent["note"]).encode() not in bytes(stored)
        assert "xác minh".encode() not in bytes(stored)
        assert (timeline[1], str(timeline[2])) == ("grounds_found", created["id"])
        assert verified_at == datetime.fromisoformat(sent["completed_at"])
        assert version == case.version + 1
        read = await world.client.get(url(case.id), headers=owner.headers)
        assert read.status_code == 200, read.text
        [shown] = read.json()["items"]
        assert shown["note"] == sent["note"]
        assert shown["completed_at"] == created["completed_at"]

    async def test_a_second_record_is_409_naming_the_first(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        first = await record(world, owner, case.id)
        again = await world.client.post(
            url(case.id), json=body(owner.agency, outcome="no_grounds"), headers=owner.headers
        )
        problem = assert_problem(again, 409)
        assert str(problem["type"]).endswith("verification-recorded")
        assert problem["verification_id"] == first["id"]
        listed = await world.client.get(url(case.id), headers=owner.headers)
        assert [r["outcome"] for r in listed.json()["items"]] == ["grounds_found"]

    async def test_a_replay_with_the_same_key_is_the_same_answer(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        sent = body(owner.agency)
        headers = {**owner.headers, "Idempotency-Key": str(uuid.uuid4())}
        first = await world.client.post(url(case.id), json=sent, headers=headers)
        second = await world.client.post(url(case.id), json=sent, headers=headers)
        assert (first.status_code, second.status_code) == (201, 201)
        assert second.headers["Idempotent-Replayed"] == "true"
        assert second.headers["Location"] == first.headers["Location"]
        # The replay answers the record as the caller reads it now.
        (listed,) = (await world.client.get(url(case.id), headers=owner.headers)).json()["items"]
        assert second.json() == listed
        assert second.json()["id"] == first.json()["id"]

    async def test_a_closed_case_takes_none(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner, status="closed")
        response = await world.client.post(
            url(case.id), json=body(owner.agency), headers=owner.headers
        )
        assert_problem(response, 409)

    async def test_the_record_does_not_move_the_case(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        await record(world, owner, case.id)
        read = await world.client.get(f"/api/v1/cases/{case.id}", headers=owner.headers)
        assert read.json()["status"] == "received"
        assert read.json()["verified_at"] is not None


class TestValidation:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"completed_at": LATER}, "completed_at"),
            ({"completed_at": "2026-01-15T08:00:00"}, "completed_at"),
            ({"outcome": "started"}, "outcome"),
            ({"agency_ids": []}, "agency_ids"),
            ({"agency_ids": [str(uuid.uuid4())]}, "agency_ids"),
            ({"note": ""}, "note"),
            ({"verified": True}, "verified"),
        ],
    )  # fmt: skip
    async def test_malformed_is_422(self, world: World, change: dict[str, Any], field: str) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        response = await world.client.post(
            url(case.id), json=body(owner.agency, **change), headers=owner.headers
        )
        problem = assert_problem(response, 422)
        assert field in str(problem), problem

    async def test_not_before_the_case_was_received(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        before = (case.received_at - timedelta(minutes=1)).isoformat()
        response = await world.client.post(
            url(case.id), json=body(owner.agency, completed_at=before), headers=owner.headers
        )
        problem = assert_problem(response, 422)
        assert "completed_at" in str(problem)

    @pytest.mark.parametrize("kind", ["commune", "bank", "health"])
    async def test_agencies_that_may_not_verify_are_422(self, world: World, kind: str) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        other = await world.agency(kind, "40")
        response = await world.client.post(
            url(case.id), json=body(owner.agency, other), headers=owner.headers
        )
        assert "agency_ids" in str(assert_problem(response, 422))

    async def test_an_inactive_agency_is_422(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        police = await world.agency("police", "40")
        await world.session.execute(
            update(Agency).where(Agency.id == police.id).values(is_active=False)  # type: ignore[arg-type]
        )
        await world.session.commit()
        response = await world.client.post(
            url(case.id), json=body(owner.agency, police), headers=owner.headers
        )
        assert "agency_ids" in str(assert_problem(response, 422))

    async def test_a_mission_abroad_may_be_among_the_verifiers(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        mission = await world.agency("diplomatic_mission", None)
        response = await world.client.post(
            url(case.id), json=body(owner.agency, mission), headers=owner.headers
        )
        assert response.status_code == 201, response.text


class TestWho:
    async def test_other_agency_404_and_denied_row(self, world: World, engine: AsyncEngine) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        other = await worker(world)
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case.id), json=body(other.agency), headers=other.headers
        )
        assert_problem(response, 404)
        assert_problem(await world.client.get(url(case.id), headers=other.headers), 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("verification.create", "denied", "out_of_reach"),
            ("verification.list", "denied", "out_of_reach"),
        ]

    async def test_a_lead_without_the_verify_function_403(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner = await worker(world, "commune")
        case = await make_case(world, owner)
        police = await world.agency("police", "40")
        mark = await last_event_id(engine)
        response = await world.client.post(url(case.id), json=body(police), headers=owner.headers)
        problem = assert_problem(response, 403)
        assert str(problem["type"]).endswith("agency-function-required")
        events = await events_after(engine, mark)
        assert [(e["action"], e["reason"]) for e in events] == [
            ("verification.create", "missing_function:verify")
        ]

    async def test_a_verification_participant_records_on_the_leads_case(self, world: World) -> None:
        p = await participation(world, kind="police", purpose="verification")
        sent = body(p.participant.agency, p.lead.agency)
        response = await world.client.post(
            url(p.case["id"]), json=sent, headers=p.participant.headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["agency_id"] == str(p.participant.agency.id)
        # The lead reads it whole; the participant reads the note its agency wrote.
        for reader in (p.lead, p.participant):
            read = await world.client.get(url(p.case["id"]), headers=reader.headers)
            assert read.status_code == 200, read.text
            assert [r["note"] for r in read.json()["items"]] == [sent["note"]]
        case = await world.client.get(f"/api/v1/cases/{p.case['id']}", headers=p.lead.headers)
        assert case.json()["verified_at"] is not None

    async def test_a_participant_reads_no_note_another_agency_wrote(self, world: World) -> None:
        p = await participation(world, kind="police", purpose="identification")
        await record(world, p.lead, p.case["id"])
        read = await world.client.get(url(p.case["id"]), headers=p.participant.headers)
        assert read.status_code == 200, read.text
        [shown] = read.json()["items"]
        assert (shown["outcome"], shown["note"]) == ("grounds_found", None)

    @pytest.mark.parametrize(("kind", "purpose"), [("social_affairs", "support"),
                                                   ("police", "identification"),
                                                   ("police", "protection")])  # fmt: skip
    async def test_other_participant_roles_403(self, world: World, kind: str, purpose: str) -> None:
        p = await participation(world, kind=kind, purpose=purpose)
        response = await world.client.post(
            url(p.case["id"]), json=body(p.participant.agency), headers=p.participant.headers
        )
        problem = assert_problem(response, 403)
        assert str(problem["type"]).endswith("case-role-required")
        assert "verification" in str(problem["detail"])


class TestWorkflowUnchanged:
    async def test_status_moves_and_decisions_work_without_a_record(self, world: World) -> None:
        """The status is the workflow: a case moves to `verifying` and is decided
        without the record; the decision ends the verification step's deadline."""
        police = await worker(world, "police")
        case = await make_case(world, police)
        moved = await world.client.post(
            f"/api/v1/cases/{case.id}/transitions",
            json={"to": "verifying"},
            headers={**police.headers, "If-Match": '"1"'},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["next_due_at"] is not None
        evidence = await world.client.post(
            f"/api/v1/cases/{case.id}/evidence",
            json={"source": "rescuing_agency", "description": "Biên bản giải cứu"},
            headers=police.headers,
        )
        decided = await world.client.post(
            f"/api/v1/cases/{case.id}/identification",
            json={"decision": "victim", "decided_at": datetime.now(UTC).isoformat(),
                  "legal_basis": "Điều 25 Luật 53/2024/QH15",
                  "evidence_ids": [evidence.json()["id"]]},
            headers=police.headers,
        )  # fmt: skip
        assert decided.status_code == 201, decided.text
        stored = await world.session.get(Case, case.id, populate_existing=True)
        assert stored is not None
        assert (stored.status, stored.next_due_at, stored.verified_at) == (
            "identified",
            None,
            None,
        )
