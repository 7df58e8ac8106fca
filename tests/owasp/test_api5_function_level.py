"""OWASP API5:2023 broken function level authorization: every role against every
administrative route.

A role without the route's permission (app/security/permissions.py, the one table)
gets 403 problem+json before anything else happens; a role with it is not refused.
Routes of case data answer 404 instead (their existence is not shown to roles that
may not see case data); tests/api/test_case_data_hidden.py covers those for the
system administrator.
"""

from __future__ import annotations

import re
import uuid

import pytest

from app.config import Settings
from app.main import create_app
from app.security.permissions import Permission, Role, has_permission
from tests.conftest import World, assert_problem
from tests.owasp.scenario import USER_ROLES
from tests.routes import api_routes

P = Permission
# (method, path) -> (permission, the answer to a role without it)
ADMIN_ROUTES: dict[tuple[str, str], tuple[Permission, int]] = {
    ("POST", "/api/v1/agencies"): (P.AGENCIES_MANAGE, 403),
    ("GET", "/api/v1/users"): (P.USERS_READ, 403),
    ("POST", "/api/v1/users"): (P.USERS_MANAGE, 403),
    ("GET", "/api/v1/users/{user_id}"): (P.USERS_READ, 403),
    ("PATCH", "/api/v1/users/{user_id}"): (P.USERS_MANAGE, 403),
    ("DELETE", "/api/v1/users/{user_id}/mfa"): (P.USERS_MANAGE, 403),
    ("POST", "/api/v1/support-rates"): (P.SUPPORT_RATES_MANAGE, 403),
    ("POST", "/api/v1/support-rates/{rate_id}/end"): (P.SUPPORT_RATES_MANAGE, 403),
    ("GET", "/api/v1/audit-events"): (P.AUDIT_READ, 403),
    ("GET", "/api/v1/audit-events/verify"): (P.AUDIT_READ, 403),
    ("GET", "/api/v1/audit-events/checkpoints"): (P.AUDIT_READ, 403),
    # Hidden on purpose: a role that may not erase learns nothing of which persons exist.
    ("POST", "/api/v1/persons/{person_id}/erasure"): (P.PERSONS_ERASE, 404),
    # A person's own data in clear (the right of access): hidden like case data.
    ("GET", "/api/v1/persons/{person_id}/export"): (P.CASES_REVEAL_IDENTITY, 404),
    ("GET", "/api/v1/webhooks"): (P.WEBHOOKS_MANAGE, 403),
    ("POST", "/api/v1/webhooks"): (P.WEBHOOKS_MANAGE, 403),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): (P.WEBHOOKS_MANAGE, 403),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): (P.WEBHOOKS_MANAGE, 403),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}"): (P.WEBHOOKS_MANAGE, 403),
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): (
        P.WEBHOOKS_MANAGE, 403,
    ),
    ("POST", "/api/v1/webhooks/{webhook_id}/ping"): (P.WEBHOOKS_MANAGE, 403),
    ("GET", "/api/v1/integration-clients"): (P.INTEGRATION_CLIENTS_MANAGE, 403),
    ("POST", "/api/v1/integration-clients"): (P.INTEGRATION_CLIENTS_MANAGE, 403),
    ("GET", "/api/v1/integration-clients/{client_id}"): (P.INTEGRATION_CLIENTS_MANAGE, 403),
    ("POST", "/api/v1/integration-clients/{client_id}/revoke"): (
        P.INTEGRATION_CLIENTS_MANAGE, 403,
    ),
    ("GET", "/api/v1/cases/{case_id}/access-log"): (P.CASES_ACCESS_LOG, 404),
    # Persons of a case are case data: hidden (404) from roles that may not see cases.
    ("GET", "/api/v1/cases/{case_id}/persons"): (P.CASES_READ, 404),
    ("POST", "/api/v1/cases/{case_id}/persons"): (P.CASES_WRITE, 404),
    ("GET", "/api/v1/cases/{case_id}/persons/{person_id}"): (P.CASES_READ, 404),
    ("GET", "/api/v1/incidents"): (P.INCIDENTS_READ, 403),
    ("POST", "/api/v1/incidents"): (P.INCIDENTS_MANAGE, 403),
    ("POST", "/api/v1/incidents/{incident_id}/notifications"): (P.INCIDENTS_MANAGE, 403),
    ("GET", "/api/v1/reports/processing-record"): (P.PROCESSING_RECORD_READ, 403),
}  # fmt: skip
SERVED = api_routes(create_app(Settings(VCM_ENV="dev")))  # type: ignore[call-arg]
# Path words of administrative functions: a served route with one needs a row above.
ADMIN_WORDS = re.compile(r"/(agencies|users|support-rates|audit-events|persons|webhooks|"
                         r"integration-clients|access-log|incidents|"
                         r"processing-record)(/|$)")  # fmt: skip
# Reads of directories every signed-in role may use (permissions.py gives them all).
EVERYONE = {("GET", "/api/v1/agencies"), ("GET", "/api/v1/agencies/{agency_id}"),
            ("GET", "/api/v1/support-rates")}  # fmt: skip


def test_every_administrative_route_has_a_row() -> None:
    admin_like = {r for r in SERVED if ADMIN_WORDS.search(r[1])} - EVERYONE
    assert not admin_like - set(ADMIN_ROUTES), sorted(admin_like - set(ADMIN_ROUTES))


@pytest.mark.parametrize("role", USER_ROLES)
@pytest.mark.parametrize(("method", "path"), sorted(ADMIN_ROUTES))
async def test_role_against_admin_route(world: World, role: Role, method: str, path: str) -> None:
    if (method, path) not in SERVED:
        pytest.skip("route not served yet (a feature of this round)")
    permission, refusal = ADMIN_ROUTES[(method, path)]
    actor = await world.user(role, await world.agency("social_affairs", "40"))
    url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
    body = {} if method in ("POST", "PATCH") else None
    response = await world.client.request(
        method, url, json=body, headers={**actor.headers, "If-Match": '"1"'}
    )
    if has_permission(role, permission):
        assert response.status_code not in (401, 403), response.text
    else:
        assert_problem(response, refusal)
