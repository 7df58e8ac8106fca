"""What a participating agency may do on the lead's case, over every case route the
app has, for every participant role; and that a participation that has ended reaches
nothing (404 everywhere, as for any other agency).

The expected table is written out here from the issue (police identify, a support
participant records and delivers its services, ...), independently of
`app.domain.participation`. A route allowed to a role must not answer 403 or 404 for
the case (a missing sub-record id may still be 404, a body 422, a state 409); a route
outside the role answers 403 naming what is missing, never 404: the participant knows
the case exists.
"""

from __future__ import annotations

import re
import uuid

import pytest

from app.security.permissions import Role
from tests.cases.test_case_access_matrix import (
    BODIES,
    CASE_ID,
    OUTSIDE_ACCESS,
    _routes_of_a_case,
)
from tests.conftest import World, assert_problem
from tests.participants.helpers import participation
from tests.referrals.helpers import URL

_EVIDENCE = {"verification", "identification", "investigation"}
_IDENTIFY = {"identification", "investigation"}
_SUPPORT = {"support", "repatriation"}
_ALL = {"verification", "identification", "investigation", "support", "protection",
        "repatriation", "notification"}  # fmt: skip
S = "/api/v1/cases/{case_id}"
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("GET", S): _ALL,
    ("PATCH", S): set(),
    ("POST", S + "/transitions"): set(),
    ("GET", S + "/timeline"): set(),
    ("GET", S + "/access-log"): set(),
    ("GET", S + "/consents"): set(),
    ("POST", S + "/consents"): set(),
    ("POST", S + "/consents/{consent_id}/withdraw"): set(),
    ("GET", S + "/disclosures"): set(),
    ("GET", S + "/participants"): set(),
    ("GET", S + "/persons"): set(),
    ("POST", S + "/persons"): set(),
    ("GET", S + "/persons/{person_id}"): set(),
    ("GET", S + "/evidence"): _EVIDENCE,
    ("POST", S + "/evidence"): _EVIDENCE,
    ("GET", S + "/identification"): _IDENTIFY,
    ("POST", S + "/identification"): _IDENTIFY,
    ("GET", S + "/criminal-proceedings"): _IDENTIFY,
    ("POST", S + "/criminal-proceedings"): _IDENTIFY,
    ("PATCH", S + "/criminal-proceedings/{proceeding_id}"): _IDENTIFY,
    ("GET", S + "/protection-measures"): {"protection"},
    ("POST", S + "/protection-measures"): {"protection"},
    ("PATCH", S + "/protection-measures/{measure_id}"): {"protection"},
    ("GET", S + "/support-services"): _SUPPORT,
    ("POST", S + "/support-services"): _SUPPORT,
    ("POST", S + "/support-services/{service_id}/deliver"): _SUPPORT,
    ("POST", S + "/support-services/{service_id}/cancel"): _SUPPORT,
    ("POST", S + "/support-services/{service_id}/approve"): set(),
    ("POST", S + "/support-services/{service_id}/reject"): set(),
    ("GET", S + "/verification"): _EVIDENCE,
    ("POST", S + "/verification"): {"verification"},
    # Every participant already reads the case: 409, no need to break the glass.
    ("POST", S + "/break-glass"): _ALL,
}
# The agency kind that has the functions each role needs (police verify, identify and
# protect; social affairs supports; a mission repatriates), and the service its
# referral names (one its kind may deliver: a mission pays the travel home).
KIND = {role: "police" for role in _ALL} | {"support": "social_affairs",
                                            "repatriation": "diplomatic_mission"}  # fmt: skip
SERVICE = {role: "medical" for role in _ALL} | {"repatriation": "travel"}
ROUTES = _routes_of_a_case()


def test_every_case_route_is_in_the_table() -> None:
    assert set(ROUTES) == set(ALLOWED)


def _url(path: str, case_id: str) -> str:
    url = path.replace(CASE_ID, case_id)
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), url)


def _body(path: str, service: str = "medical") -> dict[str, object] | None:
    body = next((b for suffix, b in BODIES.items() if path.endswith(suffix)), {})
    return {**body, "type": service} if path.endswith("/support-services") else body


@pytest.mark.parametrize("role", sorted(_ALL))
async def test_each_role_on_every_case_route(world: World, role: str) -> None:
    p = await participation(
        world, kind=KIND[role], purpose=role, services=[SERVICE[role]], role=Role.SUPERVISOR
    )
    headers = {**p.participant.headers, "If-Match": '"1"', "X-Purpose-Of-Use": "protection"}
    for method, path in ROUTES:
        body = _body(path, SERVICE[role]) if method != "GET" else None
        response = await world.client.request(
            method, _url(path, p.case["id"]), headers=headers, json=body
        )
        if role in ALLOWED[(method, path)]:
            assert response.status_code != 403, (method, path, response.text)
            if path.count("{") == 1:
                assert response.status_code != 404, (method, path, response.text)
        else:
            problem = assert_problem(response, 403)
            assert str(problem["type"]).endswith(
                ("case-role-required", "agency-function-required")
            ), (method, path, problem)


@pytest.mark.parametrize("end", ["complete", "cancel", "withdraw"])
async def test_an_ended_participation_reaches_nothing(world: World, end: str) -> None:
    p = await participation(world, purpose="identification", role=Role.SUPERVISOR)
    if end == "withdraw":
        response = await world.client.post(
            f"/api/v1/cases/{p.case['id']}/consents/{p.consent_id}/withdraw",
            headers=p.lead.headers,
        )
    elif end == "complete":
        response = await world.client.post(
            f"{URL}/{p.referral['id']}/complete",
            json={"outcome": "delivered"},
            headers=p.participant.headers,
        )
    else:
        response = await world.client.post(
            f"{URL}/{p.referral['id']}/cancel", headers=p.lead.headers
        )
    assert response.status_code in (200, 201), response.text
    headers = {**p.participant.headers, "If-Match": '"1"', "X-Purpose-Of-Use": "protection"}
    for method, path in ROUTES:
        if (method, path) in OUTSIDE_ACCESS:  # reaches outside access by design
            continue
        body = _body(path) if method != "GET" else None
        response = await world.client.request(
            method, _url(path, p.case["id"]), headers=headers, json=body
        )
        assert_problem(response, 404)
        assert p.victim["full_name"] not in response.text


async def test_a_pending_referral_gives_no_case_access(world: World) -> None:
    p = await participation(world, accept=False)
    response = await world.client.get(
        f"/api/v1/cases/{p.case['id']}", headers=p.participant.headers
    )
    assert_problem(response, 404)
