"""Audit scenarios of personal-data incidents."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case
from tests.conftest import World
from tests.incidents.helpers import URL, admin, ago, body, recorded

Arrange = Callable[[World], Awaitable[Call]]


def record(who: str) -> Arrange:
    """`who`: `admin` (an agency administrator), `auditor` (reads only), `anonymous`."""

    async def arrange(world: World) -> Call:
        headers: dict[str, str] = {}
        if who == "admin":
            headers = (await admin(world)).headers
        elif who == "auditor":
            headers = (await world.user(Role.AUDITOR, await world.agency("national"))).headers
        return Call("POST", URL, headers, json=body())

    return arrange


def register(who: str) -> Arrange:
    async def arrange(world: World) -> Call:
        headers: dict[str, str] = {}
        if who == "auditor":
            headers = (await world.user(Role.AUDITOR, await world.agency("national"))).headers
        elif who == "case_worker":
            agency = await world.agency("social_affairs", "40")
            headers = (await world.user(Role.CASE_WORKER, agency)).headers
        return Call("GET", f"{URL}?overdue=true", headers)

    return arrange


def notify(who: str) -> Arrange:
    """`who`: `owner`, `other` (another agency's administrator), `unknown` (no such
    id), `auditor`, `anonymous`."""

    async def arrange(world: World) -> Call:
        owner = await admin(world)
        incident = await recorded(world, owner)
        target = f"{URL}/{incident['id']}/notifications"
        headers = owner.headers
        if who == "other":
            headers = (await admin(world, "01")).headers
        elif who == "unknown":
            target = f"{URL}/{uuid.uuid4()}/notifications"
        elif who == "auditor":
            headers = (await world.user(Role.AUDITOR, await world.agency("national"))).headers
        elif who == "anonymous":
            headers = {}
        return Call(
            "POST", target, headers, json={"recipient": "authority", "notified_at": ago(0.1)}
        )

    return arrange


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", "/api/v1/incidents"): [
        Case(
            "agency admin", record("admin"), 201, (("incident.create", "success", "severity:high"),)
        ),
        Case("auditor", record("auditor"), 403, (DENIED,)),
        Case("anonymous", record("anonymous"), 401, ()),
    ],
    ("GET", "/api/v1/incidents"): [
        Case("auditor", register("auditor"), 200, (("incident.list", "success", "overdue:true"),)),
        Case("case worker", register("case_worker"), 403, (DENIED,)),
        Case("anonymous", register("anonymous"), 401, ()),
    ],
    ("POST", "/api/v1/incidents/{incident_id}/notifications"): [
        Case(
            "owner",
            notify("owner"),
            200,
            (("incident.notify", "success", "recipient:authority"),),
        ),
        Case(
            "another agency",
            notify("other"),
            404,
            (("incident.notify", "denied", "out_of_reach"),),
        ),
        Case("unknown id", notify("unknown"), 404, ()),
        Case("auditor", notify("auditor"), 403, (DENIED,)),
        Case("anonymous", notify("anonymous"), 401, ()),
    ],
}
