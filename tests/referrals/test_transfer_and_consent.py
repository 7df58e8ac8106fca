"""Transfer moves ownership of the case on accept; withdrawing the consent a referral
rests on cuts the receiver's access at once."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.referrals.helpers import URL, act, give_consent, owner_of, parties, refer

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")

NINH_BINH = "37"


class TestTransfer:
    async def test_accept_moves_ownership(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world, receiver_province=NINH_BINH)
        referral = await refer(world, p, purpose="transfer", services=[])
        mark = await last_event_id(engine)
        response = await act(world, p.receiver, referral["id"], "accept")
        assert response.status_code == 200, response.text
        assert await owner_of(world, p.case["id"]) == p.receiver.agency.id
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [
            ("referral.accept", "success"),
            ("case.transfer", "success"),
        ]
        case_url = f"/api/v1/cases/{p.case['id']}"
        # The new owner has the whole case, and may write to it.
        new = await world.client.get(case_url, headers=p.receiver.headers)
        assert new.status_code == 200, new.text
        assert new.json()["owner_agency_id"] == str(p.receiver.agency.id)
        assert new.json()["assigned_to"] is None
        await give_consent(world, p.receiver, p.case["id"], scope="services")
        timeline = await world.client.get(f"{case_url}/timeline", headers=p.receiver.headers)
        kinds = [e["kind"] for e in timeline.json()["items"]]
        assert "case_transferred" in kinds and "referral_accepted" in kinds

    async def test_former_owner_keeps_read_only_access(
        self, world: World, engine: AsyncEngine
    ) -> None:
        p = await parties(world, receiver_province=NINH_BINH)
        referral = await refer(world, p, purpose="transfer", services=[])
        assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
        case_url = f"/api/v1/cases/{p.case['id']}"
        for url in (case_url, f"{case_url}/timeline", f"{case_url}/consents"):
            response = await world.client.get(url, headers=p.owner.headers)
            assert response.status_code == 200, (url, response.text)
        listed = await world.client.get("/api/v1/cases", headers=p.owner.headers)
        assert p.case["id"] in [c["id"] for c in listed.json()["items"]]
        mark = await last_event_id(engine)
        consent = {"scope": "services", "given_by": "self", "given_at": "2026-01-01T00:00:00Z"}
        problem = assert_problem(
            await world.client.post(f"{case_url}/consents", json=consent, headers=p.owner.headers),
            403,
        )
        assert "read only after transfer" in str(problem["detail"]).lower()
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "consent.create",
            "denied",
            "read_only_after_transfer",
        )
        patch = await world.client.patch(
            case_url,
            json={"destination_country": "LA"},
            headers={**p.owner.headers, "If-Match": '"1"'},
        )
        assert_problem(patch, 403)
        transition = await world.client.post(
            f"{case_url}/transitions",
            json={"to": "verifying", "reason": "thử"},
            headers={**p.owner.headers, "If-Match": '"2"'},
        )
        assert_problem(transition, 403)
        # Nor can it refer the case any more.
        again = await world.client.post(
            URL,
            json={
                "case_id": p.case["id"],
                "to_agency_id": str(p.third.agency.id),
                "purpose": "investigation",
            },
            headers=p.owner.headers,
        )
        assert_problem(again, 403)
        # A third agency still reaches nothing.
        assert_problem(await world.client.get(case_url, headers=p.third.headers), 404)

    async def test_accepted_transfer_cannot_be_cancelled(self, world: World) -> None:
        p = await parties(world, receiver_province=NINH_BINH)
        referral = await refer(world, p, purpose="transfer", services=[])
        assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
        assert_problem(await act(world, p.owner, referral["id"], "cancel"), 409)

    async def test_stale_transfer_409(self, world: World) -> None:
        p = await parties(world, receiver_province=NINH_BINH)
        first = await refer(world, p, purpose="transfer", services=[])
        other = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        second = await refer(
            world, p, purpose="transfer", services=[], to_agency_id=str(other.agency.id)
        )
        assert (await act(world, p.receiver, first["id"], "accept")).status_code == 200
        assert_problem(await act(world, other, second["id"], "accept"), 409)
        assert await owner_of(world, p.case["id"]) == p.receiver.agency.id

    async def test_non_transfer_accept_keeps_owner(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
        assert await owner_of(world, p.case["id"]) == p.owner.agency.id


class TestConsentWithdrawal:
    async def test_withdrawal_cuts_access_at_once(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        consent_id = await give_consent(world, p.owner, p.case["id"])
        referral = await refer(world, p, consent_id=consent_id)
        assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
        withdrawn = await world.client.post(
            f"/api/v1/cases/{p.case['id']}/consents/{consent_id}/withdraw",
            headers=p.owner.headers,
        )
        assert withdrawn.status_code == 200, withdrawn.text
        mark = await last_event_id(engine)
        response = await world.client.get(f"{URL}/{referral['id']}", headers=p.receiver.headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["access"], body["shared"]) == ("accepted", "suspended", None)
        assert p.victim["full_name"] not in response.text
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["fields"], event["person_id"]) == ("referral.read", [], None)

    async def test_other_bases_do_not_depend_on_consent(self, world: World) -> None:
        p = await parties(world, receiver_kind="police")
        consent_id = await give_consent(world, p.owner, p.case["id"])
        referral = await refer(world, p, consent=False, purpose="investigation")
        await world.client.post(
            f"/api/v1/cases/{p.case['id']}/consents/{consent_id}/withdraw",
            headers=p.owner.headers,
        )
        body = (
            await world.client.get(
                f"{URL}/{referral['id']}",
                params={"reveal": "identity"},
                headers={**p.receiver.headers, "X-Purpose-Of-Use": "investigation"},
            )
        ).json()
        assert body["access"] == "active"
        assert body["shared"]["victim.full_name"] == p.victim["full_name"]
