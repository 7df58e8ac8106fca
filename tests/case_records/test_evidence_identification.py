"""Evidence and identification decisions on a case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Case
from tests.audit.helpers import events_after, last_event_id
from tests.case_records.factories import make_case, worker
from tests.conftest import World, assert_problem, fake

NOW = datetime.now(UTC).isoformat()


def evidence_body() -> dict[str, object]:
    return {
        "source": "statement_of_person_or_relatives",
        "description": f"Lời khai của {fake.name()} về việc bị đưa sang biên giới",
        "obtained_at": NOW,
        "document_ref": "BB-12/2026",
    }


def url(case: Case, tail: str) -> str:
    return f"/api/v1/cases/{case.id}/{tail}"


async def add_evidence(world: World, headers: dict[str, str], case: Case) -> str:
    response = await world.client.post(url(case, "evidence"), json=evidence_body(), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


class TestCreateEvidence:
    async def test_anonymous_401(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        assert_problem(await world.client.post(url(case, "evidence"), json=evidence_body()), 401)

    async def test_other_agency_404_and_denied_row(self, world: World, engine: AsyncEngine) -> None:
        case = await make_case(world, await worker(world))
        other = await worker(world)
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, "evidence"), json=evidence_body(), headers=other.headers
        )
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"], e["reason"]) for e in events] == [
            ("evidence.create", "denied", "out_of_reach")
        ]

    async def test_unknown_source_422(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        body = {**evidence_body(), "source": "rumour"}
        response = await world.client.post(url(case, "evidence"), json=body, headers=owner.headers)
        assert_problem(response, 422)

    async def test_agency_without_verify_403(self, world: World, engine: AsyncEngine) -> None:
        owner = await worker(world, "commune")
        case = await make_case(world, owner)
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, "evidence"), json=evidence_body(), headers=owner.headers
        )
        body = assert_problem(response, 403)
        assert body["type"].endswith("agency-function-required")  # type: ignore[union-attr]
        events = await events_after(engine, mark)
        assert [(e["action"], e["reason"]) for e in events] == [
            ("evidence.create", "missing_function:verify")
        ]

    async def test_records_encrypted_and_audits(self, world: World, engine: AsyncEngine) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        body = evidence_body()
        mark = await last_event_id(engine)
        response = await world.client.post(url(case, "evidence"), json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["description"] == body["description"]  # as written
        assert created["source"] == body["source"]
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("evidence.create", "success")]
        assert str(events[0]["resource_id"]) == created["id"]
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    text("SELECT description FROM case_evidence WHERE id = :id"),
                    {"id": created["id"]},
                )
            ).scalar_one()
            kinds = (
                await conn.execute(
                    text("SELECT kind FROM case_timeline WHERE case_id = :id"), {"id": case.id}
                )
            ).scalars()
            assert "evidence_recorded" in list(kinds)
        assert str(body["description"]).encode() not in bytes(stored)
        assert "Lời khai".encode() not in bytes(stored)


class TestListEvidence:
    async def test_anonymous_401(self, world: World) -> None:
        case = await make_case(world, await worker(world))
        assert_problem(await world.client.get(url(case, "evidence")), 401)

    async def test_other_agency_404_and_denied_row(self, world: World, engine: AsyncEngine) -> None:
        case = await make_case(world, await worker(world))
        other = await worker(world)
        mark = await last_event_id(engine)
        assert_problem(await world.client.get(url(case, "evidence"), headers=other.headers), 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("evidence.list", "denied")]

    async def test_bad_limit_422(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        response = await world.client.get(url(case, "evidence?limit=0"), headers=owner.headers)
        assert_problem(response, 422)

    async def test_lists_decrypted_and_audits(self, world: World, engine: AsyncEngine) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        evidence_id = await add_evidence(world, owner.headers, case)
        mark = await last_event_id(engine)
        response = await world.client.get(url(case, "evidence"), headers=owner.headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [i["id"] for i in items] == [evidence_id]
        assert items[0]["description"].startswith("Lời khai của")
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("evidence.list", "success")]


def decision_body(evidence_ids: list[str], decision: str = "victim") -> dict[str, object]:
    body: dict[str, object] = {
        "decision": decision,
        "decided_at": NOW,
        "legal_basis": "Điều 24 Luật Phòng, chống mua bán người 53/2024/QH15",
        "evidence_ids": evidence_ids,
    }
    if decision == "victim":
        body["certificate_number"] = "XN-0042/2026"
    return body


class TestIdentification:
    async def _verifying_case(self, world: World) -> tuple[dict[str, str], Case, str]:
        police = await worker(world, "police")
        case = await make_case(world, police, status="verifying")
        return police.headers, case, await add_evidence(world, police.headers, case)

    async def test_anonymous_401(self, world: World) -> None:
        _, case, evidence_id = await self._verifying_case(world)
        response = await world.client.post(
            url(case, "identification"), json=decision_body([evidence_id])
        )
        assert_problem(response, 401)

    async def test_other_agency_404_and_denied_row(self, world: World, engine: AsyncEngine) -> None:
        _, case, evidence_id = await self._verifying_case(world)
        other = await worker(world, "police")
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, "identification"), json=decision_body([evidence_id]), headers=other.headers
        )
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["reason"]) for e in events] == [
            ("case.identification", "out_of_reach")
        ]

    async def test_no_evidence_or_foreign_evidence_422(self, world: World) -> None:
        headers, case, _ = await self._verifying_case(world)
        _, _, foreign_id = await self._verifying_case(world)
        for ids in ([], [foreign_id], [str(uuid.uuid4())]):
            response = await world.client.post(
                url(case, "identification"), json=decision_body(ids), headers=headers
            )
            assert_problem(response, 422)
        body = {**decision_body([foreign_id], "not_victim"), "certificate_number": "X-1"}
        response = await world.client.post(url(case, "identification"), json=body, headers=headers)
        assert_problem(response, 422)

    async def test_agency_without_identify_403(self, world: World) -> None:
        social = await worker(world, "social_affairs")
        case = await make_case(world, social, status="verifying")
        evidence_id = await add_evidence(world, social.headers, case)
        response = await world.client.post(
            url(case, "identification"), json=decision_body([evidence_id]), headers=social.headers
        )
        assert_problem(response, 403)

    async def test_wrong_status_409(self, world: World) -> None:
        police = await worker(world, "police")
        case = await make_case(world, police, status="received")
        evidence_id = await add_evidence(world, police.headers, case)
        response = await world.client.post(
            url(case, "identification"), json=decision_body([evidence_id]), headers=police.headers
        )
        assert_problem(response, 409)

    async def test_victim_decision_moves_case(self, world: World, engine: AsyncEngine) -> None:
        headers, case, evidence_id = await self._verifying_case(world)
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, "identification"), json=decision_body([evidence_id]), headers=headers
        )
        assert response.status_code == 201, response.text
        decision = response.json()
        assert decision["case_status"] == "identified"
        assert decision["certificate_number"] == "XN-0042/2026"  # as written
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [
            ("case.transition", "success"),
            ("case.identification", "success"),
        ]
        async with engine.connect() as conn:
            status = (
                await conn.execute(text("SELECT status FROM cases WHERE id = :id"), {"id": case.id})
            ).scalar_one()
            entry = (
                await conn.execute(
                    text(
                        "SELECT ref_type, ref_id FROM case_timeline WHERE to_status = 'identified'"
                    )
                )
            ).one()
            stored = (
                await conn.execute(text("SELECT legal_basis FROM identification_decisions"))
            ).scalar_one()
        assert status == "identified"
        assert (entry.ref_type, str(entry.ref_id)) == ("identification", decision["id"])
        assert b"53/2024" not in bytes(stored)
        # One decision per case: a second one is refused.
        again = await world.client.post(
            url(case, "identification"), json=decision_body([evidence_id]), headers=headers
        )
        assert_problem(again, 409)
        listed = await world.client.get(url(case, "identification"), headers=headers)
        assert [d["id"] for d in listed.json()["items"]] == [decision["id"]]
        assert listed.json()["items"][0]["certificate_number"] == "XN-0042/2026"
        assert "53/2024/QH15" in listed.json()["items"][0]["legal_basis"]

    async def test_not_victim_then_reopened_allows_new_decision(self, world: World) -> None:
        headers, case, evidence_id = await self._verifying_case(world)
        first = await world.client.post(
            url(case, "identification"),
            json=decision_body([evidence_id], "not_victim"),
            headers=headers,
        )
        assert first.status_code == 201, first.text
        assert first.json()["case_status"] == "not_identified"
        async with world.session.begin():
            await world.session.execute(
                text("UPDATE cases SET status = 'verifying' WHERE id = :id"), {"id": case.id}
            )
        second = await world.client.post(
            url(case, "identification"), json=decision_body([evidence_id]), headers=headers
        )
        assert second.status_code == 201, second.text
        listed = await world.client.get(url(case, "identification"), headers=headers)
        assert [d["decision"] for d in listed.json()["items"]] == ["not_victim", "victim"]


class TestListIdentification:
    async def test_anonymous_401(self, world: World) -> None:
        case = await make_case(world, await worker(world, "police"))
        assert_problem(await world.client.get(url(case, "identification")), 401)

    async def test_other_agency_404(self, world: World) -> None:
        case = await make_case(world, await worker(world, "police"))
        other = await worker(world, "police")
        response = await world.client.get(url(case, "identification"), headers=other.headers)
        assert_problem(response, 404)

    async def test_bad_case_id_422(self, world: World) -> None:
        police = await worker(world, "police")
        response = await world.client.get(
            "/api/v1/cases/not-a-uuid/identification", headers=police.headers
        )
        assert_problem(response, 422)

    async def test_empty_before_a_decision_and_audited(
        self, world: World, engine: AsyncEngine
    ) -> None:
        police = await worker(world, "police")
        case = await make_case(world, police, status="verifying")
        mark = await last_event_id(engine)
        response = await world.client.get(url(case, "identification"), headers=police.headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "next_cursor": None}
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("identification.list", "success")]


class TestEvidenceIdempotency:
    async def test_replay_returns_the_first_record(self, world: World, engine: AsyncEngine) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        headers = {**owner.headers, "Idempotency-Key": "ev-1"}
        body = evidence_body()
        first = await world.client.post(url(case, "evidence"), json=body, headers=headers)
        assert first.status_code == 201, first.text
        mark = await last_event_id(engine)
        again = await world.client.post(url(case, "evidence"), json=body, headers=headers)
        assert (again.status_code, again.json()["id"]) == (201, first.json()["id"])
        events = await events_after(engine, mark)
        assert (events[0]["action"], events[0]["reason"]) == (
            "evidence.create",
            "idempotent_replay",
        )
        # The replay answers the record as the caller reads it now.
        listed = (await world.client.get(url(case, "evidence"), headers=owner.headers)).json()
        assert [again.json()] == listed["items"]
        async with engine.connect() as conn:
            stored = (
                await conn.execute(text("SELECT row_to_json(t)::text FROM idempotency_keys t"))
            ).scalar_one()
        assert "Lời khai" not in stored and first.json()["id"] in stored
