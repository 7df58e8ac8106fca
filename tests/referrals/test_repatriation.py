"""A `repatriation` referral goes to an agency that repatriates (a diplomatic
mission) or hands over at the border (the border guard); anyone else is 422."""

from __future__ import annotations

import pytest

from tests.conftest import World, assert_problem
from tests.referrals.helpers import URL, give_consent, parties, referral_body

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("border_guard", 201),
        ("diplomatic_mission", 201),
        ("social_affairs", 422),
        ("police", 422),
        ("health", 422),
        ("commune", 422),
    ],
)
async def test_who_receives_a_repatriation(world: World, kind: str, status: int) -> None:
    p = await parties(world, receiver_kind=kind)
    consent_id = await give_consent(world, p.owner, p.case["id"])
    body = referral_body(p, purpose="repatriation", services=["travel"], consent_id=consent_id)
    response = await world.client.post(URL, json=body, headers=p.owner.headers)
    if status == 201:
        assert response.status_code == 201, response.text
        return
    problem = assert_problem(response, 422)
    assert problem["errors"] == [  # type: ignore[comparison-overlap]
        {
            "field": "to_agency_id",
            "message": "a repatriation referral goes to an agency with the "
            "'hand_over or repatriate' function",
        }
    ]


async def test_a_mission_takes_part_and_pays_the_travel_home(world: World) -> None:
    p = await parties(world, receiver_kind="diplomatic_mission")
    consent_id = await give_consent(world, p.owner, p.case["id"])
    body = referral_body(p, purpose="repatriation", services=["travel"], consent_id=consent_id)
    made = await world.client.post(URL, json=body, headers=p.owner.headers)
    assert made.status_code == 201, made.text
    accepted = await world.client.post(
        f"{URL}/{made.json()['id']}/accept", json={"note": "nhận"}, headers=p.receiver.headers
    )
    assert accepted.status_code == 200, accepted.text
    participants = await world.client.get(
        f"/api/v1/cases/{p.case['id']}/participants", headers=p.owner.headers
    )
    roles = {(i["agency_kind"], i["role"]) for i in participants.json()["items"]}
    assert ("diplomatic_mission", "repatriation") in roles
