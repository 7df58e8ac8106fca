"""Webhook events a referral queues: which, for whom, and that they carry ids only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from app.services.referrals import create, lifecycle
from tests.conftest import World
from tests.referrals.helpers import act, parties, refer


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[uuid.UUID], dict[str, str]]]:
    calls: list[tuple[str, list[uuid.UUID], dict[str, str]]] = []

    async def capture(
        session: Any,
        *,
        event_type: str,
        agency_ids: Iterable[uuid.UUID],
        data: Mapping[str, str],
    ) -> None:
        calls.append((event_type, list(agency_ids), dict(data)))

    monkeypatch.setattr(create, "emit", capture)
    monkeypatch.setattr(lifecycle, "emit", capture)
    return calls


async def test_events_of_a_transfer(
    world: World, emitted: list[tuple[str, list[uuid.UUID], dict[str, str]]]
) -> None:
    p = await parties(world, receiver_province="37")
    referral = await refer(world, p, purpose="transfer", services=[])
    assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
    sender, receiver = p.owner.agency.id, p.receiver.agency.id
    ids = {"referral_id": referral["id"], "case_id": p.case["id"]}
    assert emitted == [
        ("referral.created", [receiver], ids),
        ("referral.accepted", [sender], ids),
        ("case.transferred", [sender, receiver], ids),
    ]


@pytest.mark.parametrize(
    ("action", "body", "event"),
    [
        ("waitlist", {"expected_at": "2099-01-01T00:00:00+00:00"}, "referral.waitlisted"),
        ("reject", {"reason_code": "no_capacity"}, "referral.rejected"),
        ("complete", {"outcome": "delivered"}, "referral.completed"),
    ],
)
async def test_answers_go_to_the_sender(
    world: World,
    emitted: list[tuple[str, list[uuid.UUID], dict[str, str]]],
    action: str,
    body: dict[str, str],
    event: str,
) -> None:
    p = await parties(world)
    referral = await refer(world, p)
    if action == "complete":
        assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
    assert (await act(world, p.receiver, referral["id"], action, body)).status_code == 200
    assert (
        event,
        [p.owner.agency.id],
        {"referral_id": referral["id"], "case_id": p.case["id"]},
    ) in emitted


async def test_participation_events_go_to_both_agencies(
    world: World, emitted: list[tuple[str, list[uuid.UUID], dict[str, str]]]
) -> None:
    p = await parties(world)
    referral = await refer(world, p)
    both = [p.owner.agency.id, p.receiver.agency.id]
    data = {
        "referral_id": referral["id"],
        "case_id": p.case["id"],
        "agency_id": str(p.receiver.agency.id),
        "role": "support",
    }
    assert (await act(world, p.receiver, referral["id"], "accept")).status_code == 200
    assert emitted[-1] == ("participant.added", both, data)
    done = await act(world, p.receiver, referral["id"], "complete", {"outcome": "delivered"})
    assert done.status_code == 200
    assert emitted[-1] == ("participant.removed", both, data)
    assert [e[0] for e in emitted].count("referral.completed") == 1
