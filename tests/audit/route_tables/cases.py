"""Route audit table of the cases core: intake, lists, reads, changes, search,
transitions, timeline and access log."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case, get_as, headers_for
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import World

Arrange = Callable[[World], Awaitable[Call]]


def create_case_as(role: Role | None, *, replay: bool = False) -> Arrange:
    async def arrange(world: World) -> Call:
        headers = await headers_for(world, role) if role else {}
        body = intake_body()
        if replay:
            headers = {**headers, "Idempotency-Key": "same-case"}
            first = await world.client.post("/api/v1/cases", json=body, headers=headers)
            assert first.status_code == 201, first.text
        return Call("POST", "/api/v1/cases", headers, json=body)

    return arrange


def on_case(
    method: str,
    suffix: str = "",
    *,
    who: str = "owner",
    role: Role = Role.CASE_WORKER,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> Arrange:
    """A call on an existing case by `who`: the owner agency's `role`, a `stranger` of
    another agency, `anonymous`, or `missing` (the owner, on a case that does not exist)."""

    async def arrange(world: World) -> Call:
        owner = await world.user(Role.CASE_WORKER)
        case = await open_case(world, owner)
        case_id = case["id"]
        if who == "owner":
            caller = (await world.user(role, owner.agency)).headers
        elif who == "stranger":
            caller = (await world.user(role)).headers
        elif who == "missing":
            caller, case_id = owner.headers, str(uuid.uuid4())
        else:
            caller = {}
        return Call(
            method, f"/api/v1/cases/{case_id}{suffix}", {**caller, **(headers or {})}, json=json
        )

    return arrange


def hidden_from_sysadmin(method: str, suffix: str = "", json: Any = None) -> Arrange:
    async def arrange(world: World) -> Call:
        headers = await headers_for(world, Role.SYSTEM_ADMIN)
        return Call(method, f"/api/v1/cases/{uuid.uuid4()}{suffix}", headers, json=json)

    return arrange


def search_as(role: Role | None) -> Arrange:
    async def arrange(world: World) -> Call:
        headers = await headers_for(world, role) if role else {}
        return Call("GET", "/api/v1/cases/search?phone=0912345678", headers)

    return arrange


V1 = {"If-Match": '"1"'}
REVEAL = {"X-Purpose-Of-Use": "case_management"}
PATCH_BODY = {"currently_abroad": True}
VERIFY = {"to": "verifying"}

ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", "/api/v1/cases"): [
        Case("case worker", create_case_as(Role.CASE_WORKER), 201, (("case.create", "success"),)),
        Case(
            "idempotent replay",
            create_case_as(Role.CASE_WORKER, replay=True),
            201,
            (("case.create", "success", "idempotent_replay"), ("case.read", "success")),
        ),
        Case("hotline operator", create_case_as(Role.HOTLINE_OPERATOR), 404, (DENIED,)),
        Case("anonymous", create_case_as(None), 401, ()),
    ],
    ("GET", "/api/v1/cases"): [
        Case(
            "case worker",
            get_as("/api/v1/cases", Role.CASE_WORKER),
            200,
            (("case.list", "success"),),
        ),
        Case("system admin", get_as("/api/v1/cases", Role.SYSTEM_ADMIN), 404, (DENIED,)),
        Case("anonymous", get_as("/api/v1/cases", None), 401, ()),
    ],
    ("GET", "/api/v1/cases/search"): [
        Case(
            "case worker",
            search_as(Role.CASE_WORKER),
            200,
            (("case.search", "success", "index:phone"),),
        ),
        Case("system admin", search_as(Role.SYSTEM_ADMIN), 404, (DENIED,)),
        Case("anonymous", search_as(None), 401, ()),
    ],
    ("GET", "/api/v1/cases/{case_id}"): [
        Case("owner agency", on_case("GET"), 200, (("case.read", "success"),)),
        Case(
            "revealed",
            on_case("GET", "?reveal=identity", headers=REVEAL),
            200,
            (("case.reveal", "success"),),
        ),
        Case("reveal without purpose", on_case("GET", "?reveal=identity"), 422, ()),
        Case(
            "other agency",
            on_case("GET", who="stranger"),
            404,
            (("case.read", "denied", "out_of_reach"),),
        ),
        Case("no such case", on_case("GET", who="missing"), 404, ()),
        Case("system admin", hidden_from_sysadmin("GET"), 404, (DENIED,)),
        Case("anonymous", on_case("GET", who="anonymous"), 401, ()),
    ],
    ("PATCH", "/api/v1/cases/{case_id}"): [
        Case(
            "owner agency",
            on_case("PATCH", json=PATCH_BODY, headers=V1),
            200,
            (("case.update", "success"),),
        ),
        Case("without If-Match", on_case("PATCH", json=PATCH_BODY), 428, ()),
        Case(
            "other agency",
            on_case("PATCH", who="stranger", json=PATCH_BODY, headers=V1),
            404,
            (("case.update", "denied", "out_of_reach"),),
        ),
        Case("system admin", hidden_from_sysadmin("PATCH", json=PATCH_BODY), 404, (DENIED,)),
        Case("anonymous", on_case("PATCH", who="anonymous", json=PATCH_BODY), 401, ()),
    ],
    ("POST", "/api/v1/cases/{case_id}/transitions"): [
        Case(
            "owner agency",
            on_case("POST", "/transitions", json=VERIFY, headers=V1),
            200,
            (("case.transition", "success", "received:verifying"),),
        ),
        Case(
            "illegal move",
            on_case("POST", "/transitions", json={"to": "identified"}, headers=V1),
            409,
            (),
        ),
        Case(
            "other agency",
            on_case("POST", "/transitions", who="stranger", json=VERIFY, headers=V1),
            404,
            (("case.transition", "denied", "out_of_reach"),),
        ),
        Case(
            "system admin",
            hidden_from_sysadmin("POST", "/transitions", json=VERIFY),
            404,
            (DENIED,),
        ),
        Case(
            "anonymous",
            on_case("POST", "/transitions", who="anonymous", json=VERIFY),
            401,
            (),
        ),
    ],
    ("GET", "/api/v1/cases/{case_id}/timeline"): [
        Case(
            "owner agency",
            on_case("GET", "/timeline"),
            200,
            (("case_timeline.read", "success"),),
        ),
        Case(
            "other agency",
            on_case("GET", "/timeline", who="stranger"),
            404,
            (("case_timeline.read", "denied", "out_of_reach"),),
        ),
        Case("system admin", hidden_from_sysadmin("GET", "/timeline"), 404, (DENIED,)),
        Case("anonymous", on_case("GET", "/timeline", who="anonymous"), 401, ()),
    ],
    ("GET", "/api/v1/cases/{case_id}/access-log"): [
        Case(
            "supervisor",
            on_case("GET", "/access-log", role=Role.SUPERVISOR),
            200,
            (("case.access_log", "success"),),
        ),
        Case(
            "case worker",
            on_case("GET", "/access-log"),
            403,
            (("case.access_log", "denied", "missing_permission:cases:access_log"),),
        ),
        Case(
            "other agency",
            on_case("GET", "/access-log", who="stranger", role=Role.SUPERVISOR),
            404,
            (("case.access_log", "denied", "out_of_reach"),),
        ),
        Case("system admin", hidden_from_sysadmin("GET", "/access-log"), 404, (DENIED,)),
        Case("anonymous", on_case("GET", "/access-log", who="anonymous"), 401, ()),
    ],
}
