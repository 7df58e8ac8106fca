"""Audit scenarios of break-glass reads and their review."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case
from tests.break_glass.helpers import REASON, auditor, opened, outside, url
from tests.conftest import World

Arrange = Callable[[World], Awaitable[Call]]
QUEUE = "/api/v1/break-glass"
BODY = {"reason": REASON, "purpose": "investigation"}


def glass(who: str) -> Arrange:
    """`who`: `police` (outside the case), `lead`, `social` (another social-affairs
    agency: no emergency access), `auditor` (no permission: hidden), `anonymous`."""

    async def arrange(world: World) -> Call:
        o = await outside(world)
        headers = {"police": o.police.headers, "lead": o.lead.headers}.get(who, {})
        if who == "social":
            social = await world.agency("social_affairs", "01")
            headers = (await world.user(Role.SUPERVISOR, social)).headers
        elif who == "auditor":
            headers = (await auditor(world)).headers
        return Call("POST", url(o.case["id"]), headers, json=BODY)

    return arrange


def queue(who: str) -> Arrange:
    async def arrange(world: World) -> Call:
        o = await outside(world)
        await opened(world, o.police, o.case["id"])
        headers = {"auditor": (await auditor(world)).headers, "police": o.police.headers}
        return Call("GET", f"{QUEUE}?reviewed=false", headers.get(who, {}))

    return arrange


def review(who: str) -> Arrange:
    """`who`: `auditor`, `again` (a second verdict), `unknown` (no such id), `police`
    (the one who broke the glass), `anonymous`."""

    async def arrange(world: World) -> Call:
        o = await outside(world)
        grant = await opened(world, o.police, o.case["id"])
        reviewer = await auditor(world)
        target = f"{QUEUE}/{grant['id']}/review"
        body = {"verdict": "justified"}
        if who == "again":
            first = await world.client.post(target, json=body, headers=reviewer.headers)
            assert first.status_code == 200, first.text
        if who == "unknown":
            target = f"{QUEUE}/{uuid.uuid4()}/review"
        headers = {"police": o.police.headers}.get(who, reviewer.headers)
        return Call("POST", target, {} if who == "anonymous" else headers, json=body)

    return arrange


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", "/api/v1/cases/{case_id}/break-glass"): [
        Case("police outside the case", glass("police"), 201, (("case.break_glass", "success"),)),
        Case(
            "the lead: no need",
            glass("lead"),
            409,
            (("case.break_glass", "denied", "already_readable"),),
        ),
        Case(
            "no emergency access",
            glass("social"),
            403,
            (("case.break_glass", "denied", "missing_function:emergency_access"),),
        ),
        Case("auditor, hidden", glass("auditor"), 404, (DENIED,)),
        Case("anonymous", glass("anonymous"), 401, ()),
    ],
    ("GET", "/api/v1/break-glass"): [
        Case("auditor", queue("auditor"), 200, (("break_glass.list", "success"),)),
        Case("police", queue("police"), 403, (DENIED,)),
        Case("anonymous", queue("anonymous"), 401, ()),
    ],
    ("POST", "/api/v1/break-glass/{break_glass_id}/review"): [
        Case(
            "auditor",
            review("auditor"),
            200,
            (("break_glass.review", "success", "verdict:justified"),),
        ),
        Case("a second verdict", review("again"), 409, ()),
        Case("unknown id", review("unknown"), 404, ()),
        Case("the police user", review("police"), 403, (DENIED,)),
        Case("anonymous", review("anonymous"), 401, ()),
    ],
}
