"""OWASP API1:2023 broken object level authorization, over every route with an id.

Each route whose path names a record must have a row in `TABLE`: how agency A's record
is made, and which role of agency B asks for it. Agency B's user then gets 404 (never
403: a 403 would confirm the record exists), while A's own user is not refused. A new
route with an id fails `test_every_route_with_an_id_has_a_row` until it gets one.
`{case_id}` routes are walked by tests/cases/test_case_access_matrix.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from app.config import Settings
from app.main import create_app
from app.security.permissions import Role
from tests.conftest import World, assert_problem
from tests.owasp.scenario import Scenario, build
from tests.routes import api_routes

Make = Callable[[World, Scenario], Awaitable[None]]


@dataclass(frozen=True)
class Owned:
    """A record owned by agency A; `role` of agency B must get 404 on it."""

    role: Role
    body: dict[str, object] | None = None
    make: Make | None = None  # extra arrangement filling `scenario.ids`


@dataclass(frozen=True)
class NotOwned:
    """A record no agency owns (system-wide); API5 covers who may call the route."""

    reason: str


async def _referral(world: World, s: Scenario) -> None:
    other = await world.agency("police", "40")
    response = await world.client.post(
        "/api/v1/referrals",
        json={"case_id": s.ids["case_id"], "to_agency_id": str(other.id),
              "purpose": "investigation", "shared_fields": ["victim.sex"],
              "note": "chuyển điều tra"},
        headers=s.headers(Role.CASE_WORKER),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    s.ids["referral_id"] = response.json()["id"]


async def _webhook(world: World, s: Scenario) -> None:
    response = await world.client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.216.34/hooks/vcm", "events": ["referral.created"]},
        headers=s.headers(Role.AGENCY_ADMIN),
    )
    assert response.status_code == 201, response.text
    s.ids["webhook_id"] = response.json()["id"]


async def _webhook_delivery(world: World, s: Scenario) -> None:
    await _webhook(world, s)
    response = await world.client.post(
        f"/api/v1/webhooks/{s.ids['webhook_id']}/ping", headers=s.headers(Role.AGENCY_ADMIN)
    )
    assert response.status_code == 201, response.text
    s.ids["delivery_id"] = response.json()["id"]


async def _client(world: World, s: Scenario) -> None:
    response = await world.client.post(
        "/api/v1/integration-clients",
        json={"name": "Hệ thống tỉnh (test)", "scopes": ["referrals:read"]},
        headers=s.headers(Role.AGENCY_ADMIN),
    )
    assert response.status_code == 201, response.text
    s.ids["client_id"] = response.json()["client_id"]


async def _incident(world: World, s: Scenario) -> None:
    response = await world.client.post(
        "/api/v1/incidents",
        json={"detected_at": "2026-01-15T08:00:00+00:00", "nature": "integrity",
              "description": "sửa nhầm hồ sơ hàng loạt (test)", "persons_affected": 3,
              "severity": "medium"},
        headers=s.headers(Role.AGENCY_ADMIN),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    s.ids["incident_id"] = response.json()["id"]


async def _data_request(world: World, s: Scenario) -> None:
    headers = s.headers(Role.CASE_WORKER)
    case = await world.client.get(f"/api/v1/cases/{s.ids['case_id']}", headers=headers)
    assert case.status_code == 200, case.text
    response = await world.client.post(
        "/api/v1/data-requests",
        json={"case_id": s.ids["case_id"], "person_id": case.json()["victim"]["id"],
              "kind": "access", "received_at": "2026-11-20T03:00:00+00:00",
              "channel": "letter", "requester": "self", "identity_checked": True},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    s.ids["data_request_id"] = response.json()["id"]
    s.ids["person_id"] = case.json()["victim"]["id"]


ACTION = {"reason": "không phù hợp"}
# A valid body for each referral answer, so the 404 is about the record, not the body.
ANSWERS: dict[str, dict[str, object]] = {
    "accept": {"note": "nhận"},
    "waitlist": {"expected_at": "2099-01-01T00:00:00+00:00"},
    "reject": {"reason_code": "other", "reason": "không phù hợp"},
    "complete": {"outcome": "delivered"},
    "cancel": ACTION,
}
TABLE: dict[str, Owned | NotOwned] = {
    "/api/v1/agencies/{agency_id}": NotOwned("the agency directory is readable by all"),
    "/api/v1/support-rates/{rate_id}/end": NotOwned("rates are national reference data"),
    "/api/v1/persons/{person_id}/erasure": NotOwned("a system-wide erasure order"),
    "/api/v1/break-glass/{break_glass_id}/review": NotOwned(
        "auditors review the break-glass reads of every agency, as they read the audit trail"
    ),
    "/api/v1/users/{user_id}": Owned(Role.AGENCY_ADMIN, {"full_name": "Nguyễn Văn Test"}),
    "/api/v1/users/{user_id}/mfa": Owned(Role.AGENCY_ADMIN),
    "/api/v1/hotline-reports/{report_id}": Owned(Role.HOTLINE_OPERATOR),
    "/api/v1/hotline-reports/{report_id}/triage": Owned(
        Role.HOTLINE_OPERATOR, {"action": "close", "reason": "trùng lặp"}
    ),
    # Routes of features built in this round: filled from API.md, checked once they land.
    "/api/v1/referrals/{referral_id}": Owned(Role.CASE_WORKER, make=_referral),
    **{
        f"/api/v1/referrals/{{referral_id}}/{action}": Owned(Role.SUPERVISOR, body, make=_referral)
        for action, body in ANSWERS.items()
    },
    "/api/v1/webhooks/{webhook_id}": Owned(Role.AGENCY_ADMIN, make=_webhook),
    "/api/v1/webhooks/{webhook_id}/deliveries": Owned(Role.AGENCY_ADMIN, make=_webhook),
    "/api/v1/webhooks/{webhook_id}/ping": Owned(Role.AGENCY_ADMIN, make=_webhook),
    "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}": Owned(
        Role.AGENCY_ADMIN, make=_webhook_delivery
    ),
    "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": Owned(
        Role.AGENCY_ADMIN, make=_webhook_delivery
    ),
    "/api/v1/persons/{person_id}/export": Owned(Role.CASE_WORKER, make=_data_request),
    "/api/v1/data-requests/{data_request_id}/complete": Owned(
        Role.CASE_WORKER, {"outcome": "Đã xử lý"}, make=_data_request
    ),
    "/api/v1/data-requests/{data_request_id}/reject": Owned(
        Role.CASE_WORKER, {"reason": "Không xác minh"}, make=_data_request
    ),
    "/api/v1/integration-clients/{client_id}": Owned(Role.AGENCY_ADMIN, make=_client),
    "/api/v1/integration-clients/{client_id}/revoke": Owned(Role.AGENCY_ADMIN, make=_client),
    "/api/v1/incidents/{incident_id}/notifications": Owned(
        Role.AGENCY_ADMIN,
        {"recipient": "authority", "notified_at": "2026-01-16T08:00:00+00:00"},
        make=_incident,
    ),
}


def _routes_with_an_id() -> list[tuple[str, str]]:
    app = create_app(Settings(VCM_ENV="dev"))  # type: ignore[call-arg]
    return sorted(
        (m, p) for m, p in api_routes(app) if "{" in p and not p.startswith("/api/v1/cases/")
    )


ROUTES = _routes_with_an_id()


def test_every_route_with_an_id_has_a_row() -> None:
    missing = sorted({p for _, p in ROUTES} - set(TABLE))
    assert not missing, f"add these to TABLE (how to make agency A's record): {missing}"


def _url(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_other_agency_gets_404(world: World, method: str, path: str) -> None:
    entry = TABLE.get(path)
    if not isinstance(entry, Owned):
        pytest.skip(entry.reason if entry else "no row; see the test above")
    scenario = await build(world)
    if entry.make:
        await entry.make(world, scenario)
    home = scenario.actors[entry.role].agency
    stranger = await world.user(entry.role, await world.agency(home.kind, home.province_code))
    url = _url(path, scenario.ids)
    headers = {"If-Match": '"1"', "X-Purpose-Of-Use": "case_management"}
    body = entry.body if method in ("POST", "PATCH", "PUT") else None
    response = await world.client.request(
        method, url, json=body, headers={**stranger.headers, **headers}
    )
    assert_problem(response, 404)
    if method == "GET":  # the control: the record is real and its owner reaches it
        owner = await world.client.get(url, headers=scenario.headers(entry.role))
        assert owner.status_code == 200, owner.text
