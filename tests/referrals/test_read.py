"""GET /api/v1/referrals/{id}, GET /api/v1/referrals and
GET /api/v1/cases/{id}/disclosures."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.referrals.helpers import URL, act, make_overdue, parties, refer

SHARED = {"victim.full_name", "victim.sex", "case.exploitation_types"}


class TestGetReferral:
    async def test_anonymous_401(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        assert_problem(await world.client.get(f"{URL}/{referral['id']}"), 401)

    async def test_receiver_sees_only_shared_fields_before_and_after_accepting(
        self, world: World
    ) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        reveal = {**p.receiver.headers, "X-Purpose-Of-Use": "support_delivery"}
        for step in ("pending", "accepted"):
            response = await world.client.get(
                f"{URL}/{referral['id']}", params={"reveal": "identity"}, headers=reveal
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert (body["status"], body["access"], body["revealed"]) == (step, "active", True)
            assert set(body["shared"]) == SHARED
            assert body["shared"]["victim.full_name"] == p.victim["full_name"]
            assert body["shared"]["victim.sex"] == "female"
            text = response.text
            # Nothing else of the case: no other identity value, no case number.
            for other in ("national_id", "phone", "date_of_birth"):
                assert p.victim[other] not in text
            assert p.case["case_number"] not in text
            if step == "pending":
                assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
        # Accepted, the receiver reads the case itself, but only the same fields.
        case = await world.client.get(f"/api/v1/cases/{p.case['id']}", headers=p.receiver.headers)
        assert case.status_code == 200, case.text
        assert case.json()["view"] == "participant"
        assert set(case.json()["shared"]) == SHARED
        assert p.case["case_number"] not in case.text

    async def test_shared_values_are_masked_without_a_purpose(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        for reader in (p.receiver, p.owner):
            response = await world.client.get(f"{URL}/{referral['id']}", headers=reader.headers)
            body = response.json()
            assert body["revealed"] is False
            assert body["shared"]["victim.full_name"] != p.victim["full_name"]
            assert p.victim["full_name"] not in response.text
        bare = await world.client.get(
            f"{URL}/{referral['id']}", params={"reveal": "identity"}, headers=p.owner.headers
        )
        assert_problem(bare, 422)

    async def test_receiver_read_is_an_audited_disclosure(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        mark = await last_event_id(engine)
        response = await world.client.get(f"{URL}/{referral['id']}", headers=p.receiver.headers)
        assert response.status_code == 200
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "referral.read",
            "success",
            "legal_basis:consent",
        )
        assert set(event["fields"]) == SHARED
        assert event["purpose"] == "support_delivery"
        assert str(event["person_id"]) == p.case["victim"]["id"]
        assert str(event["actor_agency_id"]) == str(p.receiver.agency.id)

    async def test_sender_sees_the_same_view(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        mark = await last_event_id(engine)
        response = await world.client.get(f"{URL}/{referral['id']}", headers=p.owner.headers)
        assert response.status_code == 200
        assert set(response.json()["shared"]) == SHARED
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["reason"]) == ("referral.read", None)

    async def test_third_agency_404(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        mark = await last_event_id(engine)
        response = await world.client.get(f"{URL}/{referral['id']}", headers=p.third.headers)
        assert_problem(response, 404)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "referral.read",
            "denied",
            "out_of_reach",
        )

    async def test_unknown_404_and_bad_id_422(self, world: World) -> None:
        p = await parties(world)
        assert_problem(
            await world.client.get(f"{URL}/{uuid.uuid4()}", headers=p.owner.headers), 404
        )
        assert_problem(await world.client.get(f"{URL}/not-a-uuid", headers=p.owner.headers), 422)

    @pytest.mark.parametrize("action", ["complete", "cancel"])
    async def test_closed_referral_shows_no_values(self, world: World, action: str) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
        if action == "complete":
            response = await act(
                world,
                p.receiver,
                referral["id"],
                "complete",
                {"outcome": "delivered", "note": "Đã khám (thử)"},
            )
        else:
            response = await act(world, p.owner, referral["id"], "cancel", {"reason": "Thôi"})
        assert response.status_code == 200, response.text
        body = (
            await world.client.get(f"{URL}/{referral['id']}", headers=p.receiver.headers)
        ).json()
        assert (body["access"], body["shared"]) == ("ended", None)
        assert p.victim["full_name"] not in str(body)


class TestListReferrals:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get(URL), 401)

    async def test_inbox_outbox_and_overdue(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world, receiver_kind="police")
        first = await refer(world, p)
        second = await refer(world, p, consent=False, purpose="investigation")
        await make_overdue(world, first["id"])
        mark = await last_event_id(engine)
        inbox = await world.client.get(
            URL, params={"direction": "incoming"}, headers=p.receiver.headers
        )
        assert inbox.status_code == 200, inbox.text
        page = inbox.json()
        assert [i["id"] for i in page["items"]] == [second["id"], first["id"]]
        assert page["overdue_count"] == 1
        assert "shared" not in page["items"][0] and "note" not in page["items"][0]
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("referral.list", "success")
        outbox = await world.client.get(
            URL, params={"direction": "outgoing"}, headers=p.receiver.headers
        )
        assert outbox.json()["items"] == [] and outbox.json()["overdue_count"] == 0
        sent = await world.client.get(
            URL, params={"direction": "outgoing", "status": "expired"}, headers=p.owner.headers
        )
        assert [i["id"] for i in sent.json()["items"]] == [first["id"]]
        pending = await world.client.get(URL, params={"status": "pending"}, headers=p.owner.headers)
        assert [i["id"] for i in pending.json()["items"]] == [second["id"]]

    async def test_paging(self, world: World) -> None:
        p = await parties(world, receiver_kind="police")
        for _ in range(3):
            await refer(world, p, consent=False, purpose="investigation")
        page = await world.client.get(URL, params={"limit": 2}, headers=p.receiver.headers)
        assert len(page.json()["items"]) == 2
        rest = await world.client.get(
            URL,
            params={"limit": 2, "cursor": page.json()["next_cursor"]},
            headers=p.receiver.headers,
        )
        assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None

    async def test_third_agency_sees_nothing(self, world: World) -> None:
        p = await parties(world)
        await refer(world, p)
        response = await world.client.get(URL, headers=p.third.headers)
        assert response.json() == {"items": [], "next_cursor": None, "overdue_count": 0}

    async def test_invalid_filter_422(self, world: World) -> None:
        p = await parties(world)
        response = await world.client.get(URL, params={"status": "lost"}, headers=p.owner.headers)
        assert_problem(response, 422)

    async def test_analyst_404(self, world: World) -> None:
        analyst = await world.user(Role.ANALYST)
        assert_problem(await world.client.get(URL, headers=analyst.headers), 404)


class TestDisclosures:
    async def test_anonymous_401(self, world: World) -> None:
        p = await parties(world)
        assert_problem(await world.client.get(f"/api/v1/cases/{p.case['id']}/disclosures"), 401)

    async def test_owner_supervisor_sees_the_accounting(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        supervisor = await world.user(Role.SUPERVISOR, p.owner.agency)
        mark = await last_event_id(engine)
        response = await world.client.get(
            f"/api/v1/cases/{p.case['id']}/disclosures", headers=supervisor.headers
        )
        assert response.status_code == 200, response.text
        (item,) = response.json()["items"]
        assert item["referral_id"] == referral["id"]
        assert item["to_agency_id"] == str(p.receiver.agency.id)
        assert set(item["shared_fields"]) == SHARED
        assert (item["purpose"], item["legal_basis"]) == ("support", "consent")
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("disclosure.list", "success")

    async def test_case_worker_and_other_agency_404(self, world: World) -> None:
        p = await parties(world)
        path = f"/api/v1/cases/{p.case['id']}/disclosures"
        assert_problem(await world.client.get(path, headers=p.owner.headers), 404)
        other = await world.user(Role.SUPERVISOR, p.third.agency)
        assert_problem(await world.client.get(path, headers=other.headers), 404)
