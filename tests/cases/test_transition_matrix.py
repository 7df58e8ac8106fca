"""The full transition matrix through the API: every from × to for a social-affairs
case worker, and every role for one legal move. The expected table is written out
here from the law's path (DOMAIN.md), independently of app.domain.workflow."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import update

from app.models import Case
from app.security.permissions import Role
from tests.cases.intake_helpers import open_case
from tests.conftest import World, assert_problem
from tests.participants.helpers import participation

STATUSES = [
    "received",
    "verifying",
    "identified",
    "not_identified",
    "supporting",
    "reintegrating",
    "closed",
]
# What a social-affairs agency (receive, verify, support, ...) may do by a transition.
# identified / not_identified are reached only by an identification decision.
LEGAL_FOR_SOCIAL_AFFAIRS = {
    ("received", "verifying"),
    ("received", "closed"),
    ("identified", "supporting"),
    ("identified", "reintegrating"),
    ("identified", "closed"),
    ("supporting", "reintegrating"),
    ("supporting", "closed"),
    ("reintegrating", "closed"),
    ("not_identified", "verifying"),
    ("not_identified", "closed"),
}


async def _case_in(world: World, status: str) -> tuple[dict[str, str], str]:
    worker = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    case = await open_case(world, worker)
    await world.session.execute(
        update(Case).where(Case.id == case["id"]).values(status=status)  # type: ignore[arg-type]
    )
    await world.session.commit()
    return worker.headers, case["id"]


@pytest.mark.parametrize(("source", "target"), list(itertools.product(STATUSES, STATUSES)))
async def test_every_from_to_pair(world: World, source: str, target: str) -> None:
    headers, case_id = await _case_in(world, source)
    response = await world.client.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"to": target, "reason": "lý do ghi trong hồ sơ"},
        headers={**headers, "If-Match": '"1"'},
    )
    if (source, target) in LEGAL_FOR_SOCIAL_AFFAIRS:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
    else:
        body = assert_problem(response, 409)
        assert isinstance(body["allowed"], list)
        assert target not in body["allowed"] or source == target


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.CASE_WORKER, 200),
        (Role.SUPERVISOR, 200),
        (Role.AGENCY_ADMIN, 404),
        (Role.HOTLINE_OPERATOR, 404),
        (Role.ANALYST, 404),
        (Role.AUDITOR, 404),
        (Role.SYSTEM_ADMIN, 404),
    ],
)
async def test_every_role_on_a_legal_move(world: World, role: Role, status: int) -> None:
    agency = await world.agency("social_affairs", "40")
    owner = await world.user(Role.CASE_WORKER, agency)
    case = await open_case(world, owner)
    actor = await world.user(role, agency)
    response = await world.client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"to": "verifying"},
        headers={**actor.headers, "If-Match": '"1"'},
    )
    assert response.status_code == status, response.text


async def test_commune_cannot_start_verification(world: World) -> None:
    commune = await world.user(Role.CASE_WORKER, await world.agency("commune", "40"))
    case = await open_case(world, commune)
    response = await world.client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"to": "verifying"},
        headers={**commune.headers, "If-Match": '"1"'},
    )
    assert assert_problem(response, 409)["allowed"] == ["closed"]


@pytest.mark.parametrize(
    ("kind", "purpose"),
    [("police", "identification"), ("police", "verification"), ("health", "support")],
)
async def test_a_participant_moves_no_status(world: World, kind: str, purpose: str) -> None:
    """Only the lead moves the case; a participant's identification decision moves it
    (tests/participants), never a transition of its own."""
    p = await participation(world, kind=kind, purpose=purpose)
    url = f"/api/v1/cases/{p.case['id']}/transitions"
    response = await world.client.post(
        url, json={"to": "verifying"}, headers={**p.participant.headers, "If-Match": '"1"'}
    )
    assert str(assert_problem(response, 403)["type"]).endswith("case-role-required")
    lead = await world.client.post(
        url, json={"to": "verifying"}, headers={**p.lead.headers, "If-Match": '"1"'}
    )
    assert lead.status_code == 200, lead.text
