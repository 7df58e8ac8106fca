"""The referral findings of the outside trial, each reproduced: identity in clear to
the sender's clients and users without a purpose, a transfer accepted on a withdrawn
consent, shared values in an action's answer, the investigation basis to any agency,
and free text left to a receiver whose access had ended. Then the closed loop:
waitlist, reason codes, outcomes and the inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.integration_clients.helpers import client_headers, register
from tests.referrals.helpers import (
    URL,
    act,
    give_consent,
    make_overdue,
    owner_of,
    parties,
    refer,
    referral_body,
)

FUTURE = (datetime.now(UTC) + timedelta(days=3)).isoformat()


class TestIdentityReachesOnlyAPurpose:
    async def test_integration_client_never_gets_identity(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        admin = await world.user(Role.AGENCY_ADMIN, p.owner.agency)
        headers = await client_headers(
            world, await register(world, ("referrals:read",), admin=admin)
        )
        response = await world.client.get(f"{URL}/{referral['id']}", headers=headers)
        assert response.status_code == 200, response.text
        shared = response.json()["shared"]
        assert shared["victim.full_name"] is None
        assert shared["victim.sex"] == "female"
        assert p.victim["full_name"] not in response.text
        mark = await last_event_id(engine)
        revealed = await world.client.get(
            f"{URL}/{referral['id']}",
            params={"reveal": "identity"},
            headers={**headers, "X-Purpose-Of-Use": "case_management"},
        )
        assert_problem(revealed, 403)
        assert p.victim["full_name"] not in revealed.text
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("referral.reveal", "denied")

    async def test_sender_reads_masked_unless_it_states_a_purpose(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        colleague = await world.user(Role.CASE_WORKER, p.owner.agency)
        masked = await world.client.get(f"{URL}/{referral['id']}", headers=colleague.headers)
        assert p.victim["full_name"] not in masked.text
        mark = await last_event_id(engine)
        revealed = await world.client.get(
            f"{URL}/{referral['id']}",
            params={"reveal": "identity"},
            headers={**colleague.headers, "X-Purpose-Of-Use": "case_management"},
        )
        assert revealed.json()["shared"]["victim.full_name"] == p.victim["full_name"]
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["purpose"]) == ("referral.reveal", "case_management")
        assert "victim.full_name" in event["fields"]

    @pytest.mark.parametrize("action", ["accept", "waitlist"])
    async def test_action_answers_carry_no_shared_value(
        self, world: World, engine: AsyncEngine, action: str
    ) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        body = {"expected_at": FUTURE} if action == "waitlist" else {"note": "đã nhận"}
        response = await act(world, p.receiver, referral["id"], action, body)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert (answer["shared"], answer["note"], answer["reason"]) == (None, None, None)
        assert p.victim["full_name"] not in response.text
        assert "Cần hỗ trợ" not in response.text


class TestLegalBasis:
    async def test_transfer_is_not_accepted_on_a_withdrawn_consent(self, world: World) -> None:
        p = await parties(world, receiver_province="37")
        consent_id = await give_consent(world, p.owner, p.case["id"])
        referral = await refer(world, p, purpose="transfer", services=[], consent_id=consent_id)
        withdrawn = await world.client.post(
            f"/api/v1/cases/{p.case['id']}/consents/{consent_id}/withdraw", headers=p.owner.headers
        )
        assert withdrawn.status_code == 200, withdrawn.text
        response = await act(world, p.receiver, referral["id"], "accept")
        problem = assert_problem(response, 409)
        assert str(problem["type"]).endswith("legal-basis-lapsed")
        assert await owner_of(world, p.case["id"]) == p.owner.agency.id

    async def test_complete_rechecks_the_consent(self, world: World) -> None:
        p = await parties(world)
        consent_id = await give_consent(world, p.owner, p.case["id"])
        referral = await refer(world, p, consent_id=consent_id)
        assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
        await world.client.post(
            f"/api/v1/cases/{p.case['id']}/consents/{consent_id}/withdraw", headers=p.owner.headers
        )
        done = await act(world, p.receiver, referral["id"], "complete", {"outcome": "delivered"})
        assert str(assert_problem(done, 409)["type"]).endswith("legal-basis-lapsed")

    @pytest.mark.parametrize("kind", ["bank", "health", "legal_aid", "social_affairs"])
    async def test_investigation_basis_only_to_an_investigating_agency(
        self, world: World, kind: str
    ) -> None:
        p = await parties(world)
        other = await world.agency(kind, "40")
        body = referral_body(
            p,
            purpose="investigation",
            to_agency_id=str(other.id),
            shared_fields=["victim.full_name", "victim.national_id"],
        )
        response = await world.client.post(URL, json=body, headers=p.owner.headers)
        assert_problem(response, 422)

    async def test_identification_by_police_rests_on_the_investigation_basis(
        self, world: World
    ) -> None:
        p = await parties(world, receiver_kind="police")
        body = await refer(world, p, consent=False, purpose="identification")
        assert body["legal_basis"] == "investigation"


class TestEndedAccess:
    @pytest.mark.parametrize("end", ["reject", "expire", "withdraw", "complete"])
    async def test_receiver_sees_status_only_once_access_ends(self, world: World, end: str) -> None:
        p = await parties(world)
        consent_id = await give_consent(world, p.owner, p.case["id"])
        referral = await refer(world, p, consent_id=consent_id)
        if end == "reject":
            body = {"reason_code": "other", "reason": "Gọi 0912345678 (thử)"}
            assert (await act(world, p.receiver, referral["id"], "reject", body)).status_code == 200
        elif end == "expire":
            await make_overdue(world, referral["id"])
        elif end == "withdraw":
            await world.client.post(
                f"/api/v1/cases/{p.case['id']}/consents/{consent_id}/withdraw",
                headers=p.owner.headers,
            )
        else:
            assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
            body = {"outcome": "partly_delivered", "note": "Gọi 0912345678 (thử)"}
            assert (
                await act(world, p.receiver, referral["id"], "complete", body)
            ).status_code == 200
        seen = await world.client.get(f"{URL}/{referral['id']}", headers=p.receiver.headers)
        body = seen.json()
        assert body["access"] in ("ended", "suspended")
        assert (body["note"], body["reason"], body["outcome_note"], body["shared"]) == (
            None, None, None, None,
        )  # fmt: skip
        assert "0912345678" not in seen.text and "Cần hỗ trợ" not in seen.text
        sender = (await world.client.get(f"{URL}/{referral['id']}", headers=p.owner.headers)).json()
        assert sender["note"] is not None


class TestClosedLoop:
    async def test_waitlist_then_accept(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        past = await act(
            world, p.receiver, referral["id"], "waitlist", {"expected_at": "2020-01-01T00:00:00Z"}
        )
        assert_problem(past, 422)
        waited = await act(
            world,
            p.receiver,
            referral["id"],
            "waitlist",
            {"expected_at": FUTURE, "reason": "hết chỗ"},
        )
        assert waited.status_code == 200, waited.text
        assert (waited.json()["status"], waited.json()["expected_at"] is not None) == (
            "waitlisted", True,
        )  # fmt: skip
        # A waitlisted referral does not expire at its due date.
        await make_overdue(world, referral["id"])
        again = await world.client.get(f"{URL}/{referral['id']}", headers=p.owner.headers)
        assert again.json()["status"] == "waitlisted"
        accepted = await act(world, p.receiver, referral["id"], "accept")
        assert accepted.json()["status"] == "accepted"
        timeline = await world.client.get(
            f"/api/v1/cases/{p.case['id']}/timeline", headers=p.owner.headers
        )
        kinds = [e["kind"] for e in timeline.json()["items"]]
        assert kinds.index("referral_waitlisted") < kinds.index("referral_accepted")

    async def test_reject_from_the_waitlist_with_a_code(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        await act(world, p.receiver, referral["id"], "waitlist", {"expected_at": FUTURE})
        rejected = await act(
            world, p.receiver, referral["id"], "reject", {"reason_code": "no_capacity"}
        )
        assert (rejected.json()["status"], rejected.json()["reason_code"]) == (
            "rejected", "no_capacity",
        )  # fmt: skip
        timeline = await world.client.get(
            f"/api/v1/cases/{p.case['id']}/timeline", headers=p.owner.headers
        )
        details = {e["kind"]: e["detail"] for e in timeline.json()["items"]}
        assert details["referral_rejected"] == "support:no_capacity"

    async def test_complete_needs_a_known_outcome(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        await act(world, p.receiver, referral["id"], "accept")
        for bad in ({}, {"outcome": "done"}, {"outcome": "delivered", "reason": "x"}):
            assert_problem(await act(world, p.receiver, referral["id"], "complete", bad), 422)
        done = await act(
            world, p.receiver, referral["id"], "complete", {"outcome": "not_delivered"}
        )
        assert done.json()["outcome"] == "not_delivered"

    async def test_inbox_and_outbox_needing_action(self, world: World) -> None:
        p = await parties(world)
        waiting = await refer(world, p)
        working = await refer(world, p)
        await act(world, p.receiver, working["id"], "accept")
        finished = await refer(world, p)
        await act(world, p.receiver, finished["id"], "reject", {"reason_code": "duplicate"})
        late = await refer(world, p)
        await make_overdue(world, late["id"])
        inbox = await world.client.get(
            URL, params={"box": "incoming", "action_needed": "true"}, headers=p.receiver.headers
        )
        assert inbox.status_code == 200, inbox.text
        assert {i["id"] for i in inbox.json()["items"]} == {waiting["id"], working["id"]}
        outbox = await world.client.get(
            URL, params={"box": "outgoing", "action_needed": "true"}, headers=p.owner.headers
        )
        assert {i["id"] for i in outbox.json()["items"]} == {late["id"]}
