"""Every create answers 201 with `Location`, a URL the caller can GET, and the body
shows what was written: the GET at `Location` reads the same values.

The creates are walked through the route audit table (every route's scenarios): each
scenario that answers 201 is replayed here, so a new create route is covered as soon
as it has its audit scenarios.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings
from app.main import create_app
from tests.audit.test_route_audit import ROUTES
from tests.conftest import World

CREATES = [
    pytest.param(path, case, id=f"{method} {path} [{case.name}]")
    for (method, path), cases in ROUTES.items()
    if method == "POST" and isinstance(cases, list)
    for case in cases
    if case.status == 201
]

# Fields a create answer holds that a later read legitimately shows otherwise: the
# intake's duplicates list (computed at intake only), a secret shown once.
_ONLY_AT_CREATE = {"possible_duplicates", "secret", "client_secret"}

# Creates whose `Location` is what the created record opens, not the record: a
# break-glass grant opens the case (reviewers read the grants).
_LOCATION_IS_WHAT_IT_OPENS = {"/api/v1/cases/{case_id}/break-glass"}


def _declared_creates() -> set[tuple[str, str]]:
    app = create_app(Settings(VCM_ENV="dev"))  # type: ignore[call-arg]
    return {
        (method, route.path)
        for route in app.routes
        if getattr(route, "status_code", None) == 201
        for method in getattr(route, "methods", ())
    }


def test_every_create_route_has_a_201_scenario() -> None:
    walked = {
        (method, path)
        for (method, path), cases in ROUTES.items()
        if isinstance(cases, list) and any(c.status == 201 for c in cases)
    }
    missing = sorted(_declared_creates() - walked)
    assert not missing, f"create routes without a 201 scenario to walk: {missing}"


def _find(body: Any, resource_id: str) -> Any:
    if isinstance(body, dict) and str(body.get("id")) == resource_id:
        return body
    items = body.get("items") if isinstance(body, dict) else body
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("id")) == resource_id:
            return item
    return None


@pytest.mark.parametrize(("path", "case"), CREATES)
async def test_create_answers_location_and_what_was_written(
    world: World, path: str, case: Any
) -> None:
    call = await case.arrange(world)
    created = await world.client.request(
        call.method, call.url, headers=call.headers, json=call.json, data=call.data
    )
    assert created.status_code == 201, created.text
    location = created.headers.get("location")
    assert location, f"{call.method} {call.url}: 201 without Location"
    assert location.startswith("/api/v1/"), location
    read = await world.client.get(location, headers=call.headers)
    assert read.status_code == 200, f"GET {location}: {read.status_code} {read.text}"
    body = created.json()
    if "id" not in body or path in _LOCATION_IS_WHAT_IT_OPENS:
        return
    found = _find(read.json(), str(body["id"]))
    assert found is not None, f"GET {location} does not hold {body['id']}"
    differing = {
        key: (value, found[key])
        for key, value in body.items()
        if key in found and key not in _ONLY_AT_CREATE and found[key] != value
    }
    assert not differing, f"201 body differs from GET {location}: {differing}"
