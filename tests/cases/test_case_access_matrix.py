"""Access to case data across agencies and roles, over every case route the app has.

The routes are collected from the app, so a new `/api/v1/cases/{case_id}/...` route is
covered the day it is added: another agency's case worker gets 404 on every one of
them (BOLA), and only case workers and supervisors may reveal identity.
"""

from __future__ import annotations

import re
import uuid

import pytest

from app.config import Settings
from app.main import create_app
from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import World, assert_problem
from tests.routes import api_routes

CASE_ID = "{case_id}"
NOW = "2026-01-15T08:00:00+00:00"

# Valid bodies, so the answer is about access and not about validation (a 422 for a
# malformed body is the same for every id and reveals nothing either).
BODIES: dict[str, dict[str, object]] = {
    "/support-services": {
        "type": "medical", "quantity": 1, "unit": "session", "service_date": "2026-01-15",
    },
    "/transitions": {"to": "verifying", "reason": "bắt đầu xác minh"},
    "/evidence": {"source": "rescuing_agency", "description": "biên bản", "obtained_at": NOW},
    "/identification": {
        "decision": "victim", "decided_at": NOW, "legal_basis": "Điều 25 Luật 53/2024/QH15",
        "evidence_ids": [str(uuid.uuid4())],
    },
    "/protection-measures": {
        "measure": "safe_shelter", "protected_person": "victim", "start": "2026-01-15",
        "responsible_agency_id": str(uuid.uuid4()),
    },
    "/consents": {"scope": "services", "given_by": "self", "given_at": NOW},
    "/persons": {"kind": "relative", "relation": "mẹ", "full_name": "Lò Thị Test"},
    "/verification": {
        "outcome": "grounds_found", "completed_at": NOW, "agency_ids": [str(uuid.uuid4())],
        "note": "xác minh cùng công an tỉnh",
    },
    "/criminal-proceedings": {"reference": "Vụ án số 12/2026/CSHS", "stage": "reported"},
    "/criminal-proceedings/{proceeding_id}": {"stage": "investigating"},
    "/break-glass": {"reason": "tin báo khẩn cấp về nạn nhân (test)", "purpose": "investigation"},
}  # fmt: skip
# The one case route made to reach a case outside access: police open a break-glass
# grant on another agency's case (201; its own tests are in tests/break_glass).
OUTSIDE_ACCESS = {("POST", "/api/v1/cases/{case_id}/break-glass")}


def _body(path: str) -> dict[str, object]:
    return next((b for suffix, b in BODIES.items() if path.endswith(suffix)), {})


def _routes_of_a_case() -> list[tuple[str, str]]:
    app = create_app(Settings(VCM_ENV="dev"))  # type: ignore[call-arg]
    return sorted((m, p) for m, p in api_routes(app) if CASE_ID in p)


def test_there_are_case_routes_to_check() -> None:
    assert len(_routes_of_a_case()) >= 10


@pytest.mark.parametrize(("method", "path"), _routes_of_a_case())
async def test_other_agency_gets_404_on_every_case_route(
    world: World, method: str, path: str
) -> None:
    owner = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
    case = await open_case(world, owner)
    for role in (Role.CASE_WORKER, Role.SUPERVISOR):
        stranger = await world.user(role, await world.agency("police", "40"))
        url = path.replace(CASE_ID, case["id"])
        url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), url)
        headers = {**stranger.headers, "If-Match": '"1"', "X-Purpose-Of-Use": "investigation"}
        body = _body(path) if method != "GET" else None
        response = await world.client.request(method, url, headers=headers, json=body)
        if (method, path) in OUTSIDE_ACCESS:
            assert response.status_code == 201, response.text
            continue
        assert_problem(response, 404)


@pytest.mark.parametrize(
    ("role", "reveals"),
    [
        (Role.CASE_WORKER, True),
        (Role.SUPERVISOR, True),
        (Role.ANALYST, False),
        (Role.AUDITOR, False),
        (Role.HOTLINE_OPERATOR, False),
        (Role.AGENCY_ADMIN, False),
        (Role.SYSTEM_ADMIN, False),
    ],
)
async def test_reveal_by_role(world: World, role: Role, reveals: bool) -> None:
    agency = await world.agency("social_affairs", "40")
    owner = await world.user(Role.CASE_WORKER, agency)
    body = intake_body()
    case = await open_case(world, owner, body)
    reader = await world.user(role, agency)
    response = await world.client.get(
        f"/api/v1/cases/{case['id']}",
        params={"reveal": "identity"},
        headers={**reader.headers, "X-Purpose-Of-Use": "case_management"},
    )
    name = body["victim"]["full_name"]
    if reveals:
        assert response.status_code == 200, response.text
        assert response.json()["victim"]["full_name"] == name
        masked = await world.client.get(f"/api/v1/cases/{case['id']}", headers=reader.headers)
        assert masked.json()["victim"]["full_name"] != name
    else:
        assert_problem(response, 404)
        assert name not in response.text
