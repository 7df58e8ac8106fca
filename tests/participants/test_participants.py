"""A participating agency on the lead's case: police identify a case social affairs
leads, a participant reads only its shared fields (masked unless revealed, decrypted
only those), a role or agency function it lacks is 403 naming it, and the agencies
on a case are listed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from app.models import CaseTimelineEntry
from app.security.crypto import FieldContext
from app.services import persons
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem, fake
from tests.participants.helpers import move_to_verifying, participation
from tests.referrals.helpers import URL

NOW = datetime.now(UTC).isoformat()


def evidence(source: str) -> dict[str, Any]:
    return {
        "source": source,
        "description": f"Lời khai của {fake.name()} (thử)",
        "obtained_at": NOW,
    }


def case_url(p: Any, tail: str = "") -> str:
    return f"/api/v1/cases/{p.case['id']}" + (f"/{tail}" if tail else "")


class TestPoliceIdentifyTheLeadsCase:
    async def test_evidence_and_decision_land_on_the_lead_case(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await participation(world, consent=False, purpose="identification")
        assert p.referral["legal_basis"] == "investigation"
        await move_to_verifying(world, p)
        lead_evidence = await world.client.post(
            case_url(p, "evidence"), json=evidence("rescuing_agency"), headers=p.lead.headers
        )
        assert lead_evidence.status_code == 201, lead_evidence.text
        ids = []
        for source in ("statement_of_person_or_relatives", "investigating_bodies_records"):
            made = await world.client.post(
                case_url(p, "evidence"), json=evidence(source), headers=p.participant.headers
            )
            assert made.status_code == 201, made.text
            assert made.json()["agency_id"] == str(p.participant.agency.id)
            ids.append(made.json()["id"])
        # The police see the evidence they recorded, not the lead's.
        theirs = await world.client.get(case_url(p, "evidence"), headers=p.participant.headers)
        assert sorted(i["id"] for i in theirs.json()["items"]) == sorted(ids)
        decision = await world.client.post(
            case_url(p, "identification"),
            json={"decision": "victim", "decided_at": NOW, "evidence_ids": ids,
                  "legal_basis": "Điều 24 Luật 53/2024/QH15", "certificate_number": "XN-7/2026"},
            headers=p.participant.headers,
        )  # fmt: skip
        assert decision.status_code == 201, decision.text
        assert decision.json()["case_status"] == "identified"
        lead_view = await world.client.get(case_url(p), headers=p.lead.headers)
        assert lead_view.json()["status"] == "identified"
        all_evidence = await world.client.get(case_url(p, "evidence"), headers=p.lead.headers)
        assert len(all_evidence.json()["items"]) == 3
        entries = (
            await world.session.execute(
                select(CaseTimelineEntry).where(col(CaseTimelineEntry.case_id) == p.case["id"])
            )
        ).scalars()
        by_police = {e.kind for e in entries if e.actor_agency_id == p.participant.agency.id}
        assert {"evidence_recorded", "status_changed", "referral_accepted"} <= by_police

    async def test_a_support_participant_cannot_identify(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await participation(world, kind="social_affairs", purpose="support", province="37")
        await move_to_verifying(world, p)
        mark = await last_event_id(engine)
        response = await world.client.post(
            case_url(p, "evidence"), json=evidence("rescuing_agency"), headers=p.participant.headers
        )
        problem = assert_problem(response, 403)
        assert str(problem["type"]).endswith("case-role-required")
        assert "identification" in str(problem["detail"]) and "verification" in str(
            problem["detail"]
        )
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "evidence.create", "denied", "missing_role:identification:investigation:verification",
        )  # fmt: skip

    async def test_an_identification_role_without_the_function_is_refused(
        self, world: World
    ) -> None:
        # A border guard verifies but does not identify (DOMAIN.md).
        p = await participation(world, kind="border_guard", purpose="identification")
        await move_to_verifying(world, p)
        made = await world.client.post(
            case_url(p, "evidence"), json=evidence("rescuing_agency"), headers=p.participant.headers
        )
        assert made.status_code == 201, made.text
        response = await world.client.post(
            case_url(p, "identification"),
            json={"decision": "victim", "decided_at": NOW, "evidence_ids": [made.json()["id"]],
                  "legal_basis": "Điều 24"},
            headers=p.participant.headers,
        )  # fmt: skip
        problem = assert_problem(response, 403)
        assert str(problem["type"]).endswith("agency-function-required")
        assert "identify" in str(problem["detail"])

    async def test_the_lead_still_cannot_identify_without_the_function(self, world: World) -> None:
        p = await participation(world)
        await move_to_verifying(world, p)
        response = await world.client.post(
            case_url(p, "identification"),
            json={
                "decision": "victim",
                "decided_at": NOW,
                "evidence_ids": ["00000000-0000-4000-8000-000000000000"],
                "legal_basis": "x",
            },
            headers=p.lead.headers,
        )
        assert str(assert_problem(response, 403)["type"]).endswith("agency-function-required")


class TestWhatAParticipantSees:
    async def test_shared_fields_masked_then_revealed_and_audited(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await participation(world, shared_fields=["victim.full_name", "victim.sex"])
        mark = await last_event_id(engine)
        masked = await world.client.get(case_url(p), headers=p.participant.headers)
        assert masked.status_code == 200, masked.text
        body = masked.json()
        assert (body["view"], body["roles"], body["revealed"]) == (
            "participant",
            ["identification"],
            False,
        )
        assert set(body["shared"]) == {"victim.full_name", "victim.sex"}
        assert body["shared"]["victim.full_name"] != p.victim["full_name"]
        for secret in (p.victim["full_name"], p.victim["phone"], p.victim["national_id"],
                       p.case["case_number"]):  # fmt: skip
            assert secret not in masked.text
        revealed = await world.client.get(
            case_url(p),
            params={"reveal": "identity"},
            headers={**p.participant.headers, "X-Purpose-Of-Use": "investigation"},
        )
        assert revealed.json()["shared"]["victim.full_name"] == p.victim["full_name"]
        assert p.victim["phone"] not in revealed.text
        read, reveal = await events_after(engine, mark)
        assert (read["action"], read["fields"], read["purpose"]) == (
            "case.read", ["victim.full_name", "victim.sex"], None,
        )  # fmt: skip
        assert (reveal["action"], reveal["fields"], reveal["purpose"], reveal["reason"]) == (
            "case.reveal", ["victim.full_name", "victim.sex"], "investigation",
            "participant:identification",
        )  # fmt: skip

    async def test_only_the_shared_fields_are_decrypted(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        p = await participation(world, shared_fields=["victim.date_of_birth", "victim.sex"])
        opened: list[str] = []
        real = persons.open_field

        async def spy(
            session: Any, key: Any, ciphertext: bytes, ctx: FieldContext, **kw: Any
        ) -> Any:
            opened.append(ctx.column)
            return await real(session, key, ciphertext, ctx, **kw)

        monkeypatch.setattr(persons, "open_field", spy)
        response = await world.client.get(
            case_url(p),
            params={"reveal": "identity"},
            headers={**p.participant.headers, "X-Purpose-Of-Use": "investigation"},
        )
        assert response.json()["shared"]["victim.date_of_birth"] == p.victim["date_of_birth"]
        assert opened == ["date_of_birth"]
        opened.clear()
        lead = await world.client.get(case_url(p), headers=p.lead.headers)
        assert lead.json()["view"] == "whole"
        assert "full_name" in opened and "phone" in opened

    async def test_a_participant_does_not_read_the_timeline_or_the_participants(
        self, world: World
    ) -> None:
        p = await participation(world)
        for tail in ("timeline", "participants", "consents"):
            response = await world.client.get(case_url(p, tail), headers=p.participant.headers)
            assert str(assert_problem(response, 403)["type"]).endswith("case-role-required")

    async def test_lists_and_search_do_not_show_the_participants_cases(self, world: World) -> None:
        p = await participation(world)
        listed = await world.client.get("/api/v1/cases", headers=p.participant.headers)
        assert listed.json()["items"] == []
        found = await world.client.get(
            "/api/v1/cases/search",
            params={"national_id": p.victim["national_id"]},
            headers=p.participant.headers,
        )
        assert found.json()["items"] == []


class TestParticipantsRoute:
    async def test_lead_and_participants_with_their_span(self, world: World) -> None:
        p = await participation(world, consent=False)
        response = await world.client.get(case_url(p, "participants"), headers=p.lead.headers)
        assert response.status_code == 200, response.text
        lead, police = response.json()["items"]
        assert (lead["role"], lead["agency_id"], lead["active"]) == (
            "lead", str(p.lead.agency.id), True,
        )  # fmt: skip
        assert (police["role"], police["agency_kind"], police["referral_id"], police["active"]) == (
            "identification", "police", p.referral["id"], True,
        )  # fmt: skip
        assert police["until"] is None
        done = await world.client.post(
            f"{URL}/{p.referral['id']}/complete",
            json={"outcome": "delivered"},
            headers=p.participant.headers,
        )
        assert done.status_code == 200
        after = (await world.client.get(case_url(p, "participants"), headers=p.lead.headers)).json()
        assert (after["items"][1]["active"], after["items"][1]["until"] is not None) == (
            False,
            True,
        )

    async def test_a_withdrawn_consent_ends_the_participation(self, world: World) -> None:
        p = await participation(world)
        await world.client.post(
            case_url(p, f"consents/{p.consent_id}/withdraw"), headers=p.lead.headers
        )
        items = (await world.client.get(case_url(p, "participants"), headers=p.lead.headers)).json()
        assert items["items"][1]["active"] is False
        assert items["items"][1]["until"] is not None
        assert_problem(await world.client.get(case_url(p), headers=p.participant.headers), 404)
