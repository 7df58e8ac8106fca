"""POST /api/v1/referrals/{id}/accept|waitlist|reject|complete|cancel, and expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from app.models import CaseTimelineEntry, Referral
from app.services.referrals.lifecycle import expire_due
from app.services.webhooks import worker
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.referrals.helpers import URL, Parties, act, make_overdue, parties, refer

ACTIONS = ["accept", "waitlist", "reject", "complete", "cancel"]
BODIES = {
    "accept": None,
    "waitlist": {"expected_at": "2099-01-01T00:00:00+00:00", "reason": "Hết chỗ (thử)"},
    "reject": {"reason_code": "other", "reason": "Không đủ năng lực (thử)"},
    "complete": {
        "outcome": "delivered",
        "note": "Đã hỗ trợ (thử)",
        "services_delivered": ["medical"],
    },
    "cancel": {"reason": "Nạn nhân chuyển đi (thử)"},
}


async def _accepted(world: World, p: Parties) -> dict[str, object]:
    referral = await refer(world, p)
    response = await act(world, p.receiver, referral["id"], "accept")
    assert response.status_code == 200, response.text
    return referral


async def _timeline(world: World, case_id: str) -> list[str]:
    rows = await world.session.execute(
        select(col(CaseTimelineEntry.kind))
        .where(col(CaseTimelineEntry.case_id) == case_id)
        .order_by(col(CaseTimelineEntry.occurred_at))
    )
    return list(rows.scalars())


class TestEveryAction:
    @pytest.mark.parametrize("action", ACTIONS)
    async def test_anonymous_401(self, world: World, action: str) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        response = await world.client.post(f"{URL}/{referral['id']}/{action}", json=BODIES[action])
        assert_problem(response, 401)

    @pytest.mark.parametrize("action", ACTIONS)
    async def test_third_agency_404(self, world: World, engine: AsyncEngine, action: str) -> None:
        p = await parties(world)
        referral = await _accepted(world, p) if action == "complete" else await refer(world, p)
        mark = await last_event_id(engine)
        response = await act(world, p.third, str(referral["id"]), action, BODIES[action])
        assert_problem(response, 404)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            f"referral.{action}",
            "denied",
            "out_of_reach",
        )

    @pytest.mark.parametrize("action", ACTIONS)
    async def test_wrong_party_403(self, world: World, engine: AsyncEngine, action: str) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        wrong = p.receiver if action == "cancel" else p.owner
        mark = await last_event_id(engine)
        assert_problem(await act(world, wrong, referral["id"], action, BODIES[action]), 403)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == (f"referral.{action}", "denied")

    @pytest.mark.parametrize("action", ACTIONS)
    async def test_unknown_referral_404(self, world: World, action: str) -> None:
        p = await parties(world)
        response = await act(world, p.receiver, str(uuid.uuid4()), action, BODIES[action])
        assert_problem(response, 404)


class TestAccept:
    async def test_accept(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        mark = await last_event_id(engine)
        response = await act(world, p.receiver, referral["id"], "accept")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["access"]) == ("accepted", "active")
        assert body["decided_at"] is not None
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "referral.accept",
            "success",
            "legal_basis:consent",
        )
        assert (await _timeline(world, p.case["id"]))[-2:] == [
            "referral_created",
            "referral_accepted",
        ]

    async def test_twice_409(self, world: World) -> None:
        p = await parties(world)
        referral = await _accepted(world, p)
        problem = assert_problem(await act(world, p.receiver, str(referral["id"]), "accept"), 409)
        assert problem["status"] == 409

    async def test_unknown_body_field_422(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        response = await act(world, p.receiver, referral["id"], "accept", {"decision": "yes"})
        assert_problem(response, 422)


class TestReject:
    async def test_reject_needs_a_reason(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        assert_problem(await act(world, p.receiver, referral["id"], "reject", {}), 422)
        assert_problem(await act(world, p.receiver, referral["id"], "reject"), 422)
        other = {"reason_code": "other"}
        assert_problem(await act(world, p.receiver, referral["id"], "reject", other), 422)
        unknown = {"reason_code": "busy", "reason": "x"}
        assert_problem(await act(world, p.receiver, referral["id"], "reject", unknown), 422)

    async def test_reject(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        mark = await last_event_id(engine)
        response = await act(world, p.receiver, referral["id"], "reject", BODIES["reject"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["access"], body["shared"]) == ("rejected", "ended", None)
        assert body["reason_code"] == "other"
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("referral.reject", "success")
        assert event["fields"] == ["reason", "reason_code", "status"]
        # The answer carries codes, not the free text; the sender reads it with GET.
        assert body["reason"] is None
        sent = await world.client.get(f"{URL}/{referral['id']}", headers=p.owner.headers)
        assert sent.json()["reason"] == BODIES["reject"]["reason"]  # type: ignore[index]
        row = await world.session.get(Referral, referral["id"])
        assert row is not None and row.reason is not None and b"Kh" not in row.reason
        assert "referral_rejected" in await _timeline(world, p.case["id"])


class TestComplete:
    async def test_complete(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        referral = await _accepted(world, p)
        mark = await last_event_id(engine)
        response = await act(world, p.receiver, str(referral["id"]), "complete", BODIES["complete"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["access"]) == ("completed", "ended")
        assert body["services_delivered"] == ["medical"]
        assert (body["outcome"], body["outcome_note"]) == ("delivered", None)
        assert body["completed_at"] is not None
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("referral.complete", "success")

    async def test_needs_outcome_422(self, world: World) -> None:
        p = await parties(world)
        referral = await _accepted(world, p)
        assert_problem(await act(world, p.receiver, str(referral["id"]), "complete", {}), 422)

    async def test_delivered_must_be_referred_422(self, world: World) -> None:
        p = await parties(world)
        referral = await _accepted(world, p)
        body = {"outcome": "delivered", "services_delivered": ["loan"]}
        assert_problem(await act(world, p.receiver, str(referral["id"]), "complete", body), 422)

    async def test_pending_409(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        response = await act(world, p.receiver, referral["id"], "complete", BODIES["complete"])
        assert_problem(response, 409)


class TestCancel:
    @pytest.mark.parametrize("accepted", [False, True])
    async def test_cancel(self, world: World, engine: AsyncEngine, accepted: bool) -> None:
        p = await parties(world)
        referral = await _accepted(world, p) if accepted else await refer(world, p)
        mark = await last_event_id(engine)
        response = await act(world, p.owner, str(referral["id"]), "cancel")
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["access"]) == ("cancelled", "ended")
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("referral.cancel", "success")
        assert_problem(await act(world, p.owner, str(referral["id"]), "cancel"), 409)


class TestExpiry:
    async def test_overdue_pending_is_expired_and_cannot_be_accepted(self, world: World) -> None:
        p = await parties(world)
        referral = await refer(world, p)
        await make_overdue(world, referral["id"])
        body = (
            await world.client.get(f"{URL}/{referral['id']}", headers=p.receiver.headers)
        ).json()
        assert (body["status"], body["access"], body["shared"]) == ("expired", "ended", None)
        problem = assert_problem(await act(world, p.receiver, referral["id"], "accept"), 409)
        assert "expired" in str(problem["detail"])

    async def test_expire_due_flips_rows(self, world: World, engine: AsyncEngine) -> None:
        p = await parties(world)
        overdue = await refer(world, p)
        current = await refer(world, p)
        await make_overdue(world, overdue["id"])
        mark = await last_event_id(engine)
        sessionmaker = world.client._transport.app.state.sessionmaker  # type: ignore[attr-defined]
        async with sessionmaker() as session:
            assert await expire_due(session, datetime.now(UTC)) == 1
            await session.commit()
        rows = await world.session.execute(select(col(Referral.id), col(Referral.status)))
        statuses = {str(i): s for i, s in rows.all()}
        assert statuses == {overdue["id"]: "expired", current["id"]: "pending"}
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["actor_type"], event["reason"]) == (
            "referral.expire",
            "system",
            "due_date_passed",
        )
        assert "referral_expired" in await _timeline(world, p.case["id"])

    async def test_the_worker_sweeps_them(self, world: World) -> None:
        p = await parties(world)
        overdue = await refer(world, p)
        await make_overdue(world, overdue["id"])
        sessionmaker = world.client._transport.app.state.sessionmaker  # type: ignore[attr-defined]
        assert await worker.run_periodic_jobs(sessionmaker) == 1
        status = await world.session.scalar(
            select(col(Referral.status)).where(col(Referral.id) == uuid.UUID(overdue["id"]))
        )
        assert status == "expired"
