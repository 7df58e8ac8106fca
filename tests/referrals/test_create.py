"""POST /api/v1/referrals: the owning agency refers a case on a legal basis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from app.models import CaseTimelineEntry, IdempotencyRecord, Referral
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.referrals.helpers import URL, give_consent, parties, refer, referral_body


class TestCreateReferral:
    async def test_anonymous_401(self, world: World) -> None:
        p = await parties(world)
        assert_problem(await world.client.post(URL, json=referral_body(p)), 401)

    async def test_on_consent(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        consent_id = await give_consent(world, p.owner, p.case["id"])
        mark = await last_event_id(engine)
        response = await world.client.post(
            URL, json=referral_body(p, consent_id=consent_id), headers=p.owner.headers
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "pending"
        assert body["legal_basis"] == "consent"
        assert body["access"] == "active"
        assert body["from_agency_id"] == str(p.owner.agency.id)
        # The answer shows what was written, the shared values masked as GET shows them.
        assert body["note"] == referral_body(p, consent_id=consent_id)["note"]
        assert set(body["shared"]) == set(body["shared_fields"])
        assert p.victim["full_name"] not in response.text
        read = await world.client.get(f"{URL}/{body['id']}", headers=p.owner.headers)
        shared = read.json()["shared"]
        assert set(shared) == {"victim.full_name", "victim.sex", "case.exploitation_types"}
        assert shared["case.exploitation_types"] == ["forced_labour"]
        assert read.json()["note"] == "Cần hỗ trợ y tế và tâm lý (thử nghiệm)"
        # Default due date: VCM_REFERRAL_DUE_DAYS (7) days from now.
        due = datetime.fromisoformat(body["due_at"])
        assert timedelta(days=6, hours=23) < due - datetime.now(UTC) <= timedelta(days=7)
        event, _read = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "referral.create",
            "success",
            "legal_basis:consent",
        )
        assert sorted(event["fields"]) == sorted(body["shared_fields"])
        assert event["purpose"] == "support_delivery"
        assert str(event["person_id"]) == p.case["victim"]["id"]
        # The note is ciphertext in the table, never the text.
        row = await world.session.get(Referral, body["id"])
        assert row is not None and row.note is not None
        assert "hỗ trợ".encode() not in row.note
        kinds = (
            await world.session.execute(
                select(col(CaseTimelineEntry.kind), col(CaseTimelineEntry.detail)).where(
                    col(CaseTimelineEntry.case_id) == p.case["id"]
                )
            )
        ).all()
        assert ("referral_created", "support:consent") in kinds

    async def test_investigation_needs_no_consent(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world, receiver_kind="police")
        mark = await last_event_id(engine)
        body = await refer(world, p, consent=False, purpose="investigation")
        assert body["legal_basis"] == "investigation"
        (event,) = await events_after(engine, mark)
        assert event["reason"] == "legal_basis:investigation"

    async def test_emergency_with_reason(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        mark = await last_event_id(engine)
        body = await refer(
            world, p, consent=False, purpose="protection", emergency_reason="Nguy hiểm tức thời"
        )
        assert body["legal_basis"] == "emergency"
        (event,) = await events_after(engine, mark)
        assert (event["reason"], event["purpose"]) == ("legal_basis:emergency", "emergency")
        read = await world.client.get(f"{URL}/{body['id']}", headers=p.receiver.headers)
        assert read.json()["emergency_reason"] == "Nguy hiểm tức thời"

    async def test_no_legal_basis_422(self, world: World) -> None:
        p = await parties(world)
        response = await world.client.post(URL, json=referral_body(p), headers=p.owner.headers)
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["field"] == "consent_id"  # type: ignore[index]

    @pytest.mark.parametrize("scope", ["services", "reporting"])
    async def test_consent_of_another_scope_422(self, world: World, scope: str) -> None:
        p = await parties(world)
        consent_id = await give_consent(world, p.owner, p.case["id"], scope=scope)
        response = await world.client.post(
            URL, json=referral_body(p, consent_id=consent_id), headers=p.owner.headers
        )
        assert_problem(response, 422)

    async def test_withdrawn_consent_422(self, world: World) -> None:
        p = await parties(world)
        consent_id = await give_consent(world, p.owner, p.case["id"])
        withdrawn = await world.client.post(
            f"/api/v1/cases/{p.case['id']}/consents/{consent_id}/withdraw", headers=p.owner.headers
        )
        assert withdrawn.status_code == 200, withdrawn.text
        response = await world.client.post(
            URL, json=referral_body(p, consent_id=consent_id), headers=p.owner.headers
        )
        assert_problem(response, 422)

    @pytest.mark.parametrize(
        "overrides",
        [
            {"shared_fields": ["victim.full_name", "victim.statement"]},
            {"shared_fields": ["case.owner_agency_id"]},
            {"services": ["spa_day"]},
            {"purpose": "gossip"},
            {"unknown": 1},
            {"due_at": "2020-01-01T00:00:00Z"},
        ],
    )
    async def test_invalid_body_422(self, world: World, overrides: dict[str, object]) -> None:
        p = await parties(world)
        consent_id = await give_consent(world, p.owner, p.case["id"])
        body = referral_body(p, consent_id=consent_id, **overrides)
        assert_problem(await world.client.post(URL, json=body, headers=p.owner.headers), 422)

    async def test_to_own_agency_422(self, world: World) -> None:
        p = await parties(world)
        body = referral_body(p, purpose="investigation", to_agency_id=str(p.owner.agency.id))
        assert_problem(await world.client.post(URL, json=body, headers=p.owner.headers), 422)

    async def test_to_unknown_agency_422(self, world: World) -> None:
        p = await parties(world)
        body = referral_body(
            p, purpose="investigation", to_agency_id="00000000-0000-4000-8000-000000000000"
        )
        assert_problem(await world.client.post(URL, json=body, headers=p.owner.headers), 422)

    async def test_other_agency_case_404(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        body = referral_body(p, purpose="investigation", to_agency_id=str(p.owner.agency.id))
        mark = await last_event_id(engine)
        assert_problem(await world.client.post(URL, json=body, headers=p.third.headers), 404)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "referral.create",
            "denied",
            "out_of_reach",
        )

    @pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR, Role.HOTLINE_OPERATOR])
    async def test_roles_without_referrals_404(self, world: World, role: Role) -> None:
        p = await parties(world)
        actor = await world.user(role, p.owner.agency)
        body = referral_body(p, purpose="investigation")
        assert_problem(await world.client.post(URL, json=body, headers=actor.headers), 404)

    async def test_idempotent(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world, receiver_kind="police")
        body = referral_body(p, purpose="investigation", note="Ghi chú riêng (thử)")
        headers = {**p.owner.headers, "Idempotency-Key": "ref-1"}
        first = await world.client.post(URL, json=body, headers=headers)
        assert first.status_code == 201, first.text
        mark = await last_event_id(engine)
        again = await world.client.post(URL, json=body, headers=headers)
        assert again.status_code == 201
        assert again.json()["id"] == first.json()["id"]
        events = await events_after(engine, mark)
        # The replay, then the re-read of the referral it answers with.
        assert (events[0]["action"], events[0]["reason"]) == (
            "referral.create",
            "idempotent_replay",
        )
        other = await world.client.post(
            URL, json={**body, "services": ["legal_aid"]}, headers=headers
        )
        assert_problem(other, 422)
        count = (await world.session.execute(select(Referral))).scalars().all()
        assert len(count) == 1
        stored = (await world.session.execute(select(IdempotencyRecord))).scalars().one()
        assert str(stored.resource_id) == first.json()["id"]
        assert stored.location == f"{URL}/{first.json()['id']}"
