"""Audit scenarios of integration clients (their token grant is covered in
tests/integration_clients/test_token.py: the token route's row lives in the core table)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case, get_as, post_as
from tests.conftest import World
from tests.integration_clients.helpers import CLIENTS, register

Arrange = Callable[[World], Awaitable[Call]]
NEW = {"name": "Cổng liên thông (test)", "scopes": ["cases:read"]}
ONE = CLIENTS + "/{client_id}"


def create_as(role: Role | None) -> Arrange:
    async def arrange(world: World) -> Call:
        headers = (await world.user(role)).headers if role else {}
        return Call("POST", CLIENTS, headers, json=NEW)

    return arrange


def client_route(method: str, suffix: str, who: str) -> Arrange:
    """`who`: owner (the registering admin), stranger (another agency's admin),
    worker (a case worker of the client's agency), none (anonymous)."""

    async def arrange(world: World) -> Call:
        made = await register(world)
        headers: dict[str, str] = {}
        if who == "owner":
            headers = made.admin.headers
        elif who == "stranger":
            headers = (await world.user(Role.AGENCY_ADMIN)).headers
        elif who == "worker":
            headers = (await world.user(Role.CASE_WORKER, made.admin.agency)).headers
        return Call(method, ONE.format(client_id=made.client_id) + suffix, headers)

    return arrange


def _scenarios(method: str, suffix: str, action: str, ok: int) -> list[Case]:
    return [
        Case("own agency", client_route(method, suffix, "owner"), ok, ((action, "success"),)),
        Case(
            "other agency",
            client_route(method, suffix, "stranger"),
            404,
            ((action, "denied", "out_of_reach"),),
        ),
        Case("no permission", client_route(method, suffix, "worker"), 403, (DENIED,)),
        Case("anonymous", client_route(method, suffix, "none"), 401, ()),
    ]


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", CLIENTS): [
        Case(
            "agency admin",
            create_as(Role.AGENCY_ADMIN),
            201,
            (("integration_client.create", "success"),),
        ),
        Case("case worker", create_as(Role.CASE_WORKER), 403, (DENIED,)),
        Case("system admin", post_as(CLIENTS, Role.SYSTEM_ADMIN, NEW), 403, (DENIED,)),
        Case("anonymous", create_as(None), 401, ()),
    ],
    ("GET", CLIENTS): [
        Case(
            "agency admin",
            get_as(CLIENTS, Role.AGENCY_ADMIN),
            200,
            (("integration_client.list", "success"),),
        ),
        Case("auditor", get_as(CLIENTS, Role.AUDITOR), 403, (DENIED,)),
        Case("anonymous", get_as(CLIENTS, None), 401, ()),
    ],
    ("GET", ONE): _scenarios("GET", "", "integration_client.read", 200),
    ("POST", ONE + "/revoke"): _scenarios("POST", "/revoke", "integration_client.revoke", 200),
}
