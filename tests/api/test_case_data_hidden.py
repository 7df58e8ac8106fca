"""A system administrator runs the system but reads no case data: every case-data
route answers 404 to them, as if the record did not exist. The routes are collected
from the app, so each new case-data route is covered the day it is added."""

from __future__ import annotations

import re
import uuid

import pytest

from app.config import Settings
from app.main import create_app
from app.security.permissions import Role
from tests.conftest import World, assert_problem
from tests.routes import api_routes

CASE_DATA_PREFIXES = (
    "/api/v1/cases",
    "/api/v1/hotline-reports",
    "/api/v1/referrals",
    "/api/v1/reports",
    "/api/v1/exports",
    "/api/v1/data-requests",
)
# Under a prefix above but holding no case data: the record of processing lists
# categories, purposes, agency kinds and counts, and is the system administrator's.
NOT_CASE_DATA = {("GET", "/api/v1/reports/processing-record")}


def _case_data_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(VCM_ENV="dev"))  # type: ignore[call-arg]
    return sorted(
        (m, p)
        for m, p in api_routes(app)
        if p.startswith(CASE_DATA_PREFIXES) and (m, p) not in NOT_CASE_DATA
    )


def test_route_discovery_sees_the_app() -> None:
    # The guard below is only as good as the route list it iterates.
    app = create_app(Settings(VCM_ENV="dev"))  # type: ignore[call-arg]
    assert ("GET", "/api/v1/users/{user_id}") in api_routes(app)


@pytest.mark.parametrize(("method", "path"), _case_data_routes())
async def test_system_admin_gets_404(world: World, method: str, path: str) -> None:
    sysadmin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
    url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
    response = await world.client.request(method, url, headers=sysadmin.headers, json={})
    assert_problem(response, 404)
