"""Every route, called with and without rights, leaves exactly the expected audit events.

`ROUTES` maps each (method, path) of the app to its scenarios; a route missing from it
fails `test_every_route_is_in_the_table`, so a new route cannot ship unaudited by
accident. A route that is deliberately not audited (operations, public keys) says why.
Arrangements live in `tests/audit/arrange.py`.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.main import create_app
from app.security.permissions import Role
from tests.audit.arrange import (
    DENIED,
    ERASURE,
    Case,
    create_agency_as,
    create_user_as,
    erase_existing_person,
    get_agency_as,
    get_as,
    password_grant,
    post_as,
    refresh_grant,
    user_route,
    user_route_as,
    worker_of_other_agency,
    worker_of_own_agency,
)
from tests.audit.helpers import events_after, last_event_id
from tests.audit.route_tables import feature_tables
from tests.conftest import World
from tests.routes import api_routes

ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("GET", "/health"): "operations: no record, no caller",
    ("GET", "/ready"): "operations: no record, no caller",
    ("GET", "/metrics"): "operations: counters only",
    ("GET", "/.well-known/jwks.json"): "public keys, public by design",
    ("POST", "/api/v1/auth/token"): [
        Case("password ok", password_grant("ok"), 200, (("auth.login", "success"),)),
        Case(
            "wrong password",
            password_grant("wrong"),
            401,
            (("auth.login", "denied", "wrong_password"),),
        ),
        Case(
            "unknown user",
            password_grant("unknown"),
            401,
            (("auth.login", "denied", "unknown_user"),),
        ),
        Case(
            "locked out", password_grant("locked"), 429, (("auth.login", "denied", "locked_out"),)
        ),
        Case("incomplete request", password_grant("incomplete"), 400, ()),
        Case("refresh ok", refresh_grant("ok"), 200, (("auth.refresh", "success"),)),
        Case(
            "refresh reused",
            refresh_grant("reused"),
            400,
            (("auth.refresh", "denied", "refresh_token_reused"),),
        ),
        Case(
            "refresh unknown",
            refresh_grant("unknown"),
            400,
            (("auth.refresh", "denied", "unknown_refresh_token"),),
        ),
    ],
    ("POST", "/api/v1/auth/logout"): [
        Case(
            "signed in",
            post_as("/api/v1/auth/logout", Role.CASE_WORKER),
            204,
            (("auth.logout", "success"),),
        ),
        Case("anonymous", post_as("/api/v1/auth/logout", None), 401, ()),
    ],
    ("GET", "/api/v1/auth/me"): [
        Case(
            "signed in", get_as("/api/v1/auth/me", Role.ANALYST), 200, (("user.read", "success"),)
        ),
        Case("anonymous", get_as("/api/v1/auth/me", None), 401, ()),
    ],
    ("GET", "/api/v1/agencies"): [
        Case(
            "any role",
            get_as("/api/v1/agencies", Role.HOTLINE_OPERATOR),
            200,
            (("agency.list", "success"),),
        ),
        Case("anonymous", get_as("/api/v1/agencies", None), 401, ()),
    ],
    ("POST", "/api/v1/agencies"): [
        Case(
            "system admin",
            create_agency_as(Role.SYSTEM_ADMIN),
            201,
            (("agency.create", "success"),),
        ),
        Case("agency admin", create_agency_as(Role.AGENCY_ADMIN), 403, (DENIED,)),
        Case("anonymous", create_agency_as(None), 401, ()),
    ],
    ("GET", "/api/v1/agencies/{agency_id}"): [
        Case("any role", get_agency_as(Role.CASE_WORKER), 200, (("agency.read", "success"),)),
        Case("no such agency", get_agency_as(Role.CASE_WORKER, exists=False), 404, ()),
        Case("anonymous", get_agency_as(None), 401, ()),
    ],
    ("GET", "/api/v1/users"): [
        Case(
            "agency admin",
            get_as("/api/v1/users", Role.AGENCY_ADMIN),
            200,
            (("user.list", "success"),),
        ),
        Case("auditor", get_as("/api/v1/users", Role.AUDITOR), 403, (DENIED,)),
        Case("anonymous", get_as("/api/v1/users", None), 401, ()),
    ],
    ("POST", "/api/v1/users"): [
        Case("agency admin", create_user_as(Role.AGENCY_ADMIN), 201, (("user.create", "success"),)),
        Case(
            "idempotent replay",
            create_user_as(Role.AGENCY_ADMIN, replay=True),
            201,
            (("user.create", "success", "idempotent_replay"), ("user.read", "success")),
        ),
        Case("case worker", create_user_as(Role.CASE_WORKER), 403, (DENIED,)),
        Case("anonymous", create_user_as(None), 401, ()),
    ],
    ("GET", "/api/v1/users/{user_id}"): [
        Case(
            "own agency", user_route("GET", worker_of_own_agency), 200, (("user.read", "success"),)
        ),
        Case(
            "other agency",
            user_route("GET", worker_of_other_agency),
            404,
            (("user.read", "denied", "out_of_reach"),),
        ),
        Case("no permission", user_route_as(Role.ANALYST, "GET"), 403, (DENIED,)),
        Case("anonymous", user_route_as(None, "GET"), 401, ()),
    ],
    ("PATCH", "/api/v1/users/{user_id}"): [
        Case(
            "own agency",
            user_route("PATCH", worker_of_own_agency),
            200,
            (("user.update", "success"),),
        ),
        Case(
            "other agency",
            user_route("PATCH", worker_of_other_agency),
            404,
            (("user.update", "denied", "out_of_reach"),),
        ),
        Case("no permission", user_route_as(Role.SUPERVISOR, "PATCH"), 403, (DENIED,)),
        Case("anonymous", user_route_as(None, "PATCH"), 401, ()),
    ],
    ("POST", "/api/v1/persons/{person_id}/erasure"): [
        Case("system admin", erase_existing_person, 200, (("person.erase", "success"),)),
        Case(
            "no such person",
            post_as("/api/v1/persons/{id}/erasure", Role.SYSTEM_ADMIN, ERASURE),
            404,
            (),
        ),
        Case(
            "hidden from other roles",
            post_as("/api/v1/persons/{id}/erasure", Role.SUPERVISOR, ERASURE),
            404,
            (DENIED,),
        ),
        Case("anonymous", post_as("/api/v1/persons/{id}/erasure", None, ERASURE), 401, ()),
    ],
    ("GET", "/api/v1/audit-events"): [
        Case(
            "auditor",
            get_as("/api/v1/audit-events", Role.AUDITOR),
            200,
            (("audit_event.list", "success"),),
        ),
        Case("system admin", get_as("/api/v1/audit-events", Role.SYSTEM_ADMIN), 403, (DENIED,)),
        Case("anonymous", get_as("/api/v1/audit-events", None), 401, ()),
    ],
    ("GET", "/api/v1/audit-events/verify"): [
        Case(
            "auditor",
            get_as("/api/v1/audit-events/verify", Role.AUDITOR),
            200,
            (("audit_chain.verify", "success"),),
        ),
        Case("supervisor", get_as("/api/v1/audit-events/verify", Role.SUPERVISOR), 403, (DENIED,)),
        Case("anonymous", get_as("/api/v1/audit-events/verify", None), 401, ()),
    ],
    ("GET", "/api/v1/audit-events/checkpoints"): [
        Case(
            "auditor",
            get_as("/api/v1/audit-events/checkpoints", Role.AUDITOR),
            200,
            (("audit_checkpoint.list", "success"),),
        ),
        Case("analyst", get_as("/api/v1/audit-events/checkpoints", Role.ANALYST), 403, (DENIED,)),
        Case("anonymous", get_as("/api/v1/audit-events/checkpoints", None), 401, ()),
    ],
}

ROUTES.update(feature_tables())


def test_every_route_is_in_the_table() -> None:
    routes = api_routes(create_app(Settings(VCM_ENV="dev")))  # type: ignore[call-arg]
    missing = sorted(routes - ROUTES.keys())
    assert not missing, (
        f"Routes without audit scenarios: {missing}. Add each to ROUTES in {__file__} (or a "
        "feature module in tests/audit/route_tables/) with "
        "the events it must leave when called with and without rights (or, for a route "
        "that records nothing by design, the reason)."
    )
    assert not sorted(ROUTES.keys() - routes), "ROUTES lists routes the app no longer has"
    for key, cases in ROUTES.items():
        if isinstance(cases, list):
            assert any(c.status < 400 for c in cases), f"{key}: no scenario with rights"
            assert any(c.status >= 400 for c in cases), f"{key}: no scenario without rights"


SCENARIOS = [
    pytest.param(case, id=f"{method} {path} [{case.name}]")
    for (method, path), cases in ROUTES.items()
    if isinstance(cases, list)
    for case in cases
]


@pytest.mark.parametrize("case", SCENARIOS)
async def test_route_leaves_exactly_the_expected_events(
    world: World, engine: AsyncEngine, case: Case
) -> None:
    call = await case.arrange(world)
    mark = await last_event_id(engine)
    response = await world.client.request(
        call.method, call.url, headers=call.headers, json=call.json, data=call.data
    )
    assert response.status_code == case.status, response.text
    events = await events_after(engine, mark)
    seen = [
        (e["action"], e["outcome"], e["reason"])[: len(expected)]
        for e, expected in zip(events, case.events, strict=False)
    ]
    assert (len(events), seen) == (len(case.events), [tuple(x) for x in case.events])
