"""Audit scenarios of the register of data subjects' requests."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case
from tests.conftest import World
from tests.data_requests.helpers import URL, body, led, made

Arrange = Callable[[World], Awaitable[Call]]


async def _stranger(world: World) -> dict[str, str]:
    return (await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))).headers


def create(who: str) -> Arrange:
    """`who`: `lead`, `stranger` (another agency), `analyst` (hidden), `anonymous`."""

    async def arrange(world: World) -> Call:
        c = await led(world)
        headers = c.lead.headers
        if who == "stranger":
            headers = await _stranger(world)
        elif who == "analyst":
            headers = (await world.user(Role.ANALYST, c.lead.agency)).headers
        elif who == "anonymous":
            headers = {}
        return Call("POST", URL, headers, json=body(c))

    return arrange


def listing(who: str) -> Arrange:
    async def arrange(world: World) -> Call:
        c = await led(world)
        await made(world, c)
        headers = {"lead": c.lead.headers}.get(who, {})
        if who == "analyst":
            headers = (await world.user(Role.ANALYST, c.lead.agency)).headers
        return Call("GET", f"{URL}?overdue=true", headers)

    return arrange


def close(verb: str, who: str) -> Arrange:
    """`who`: `lead`, `stranger`, `unknown` (no such id), `again`, `anonymous`."""
    payload = {"outcome": "Đã xử lý"} if verb == "complete" else {"reason": "Không xác minh"}

    async def arrange(world: World) -> Call:
        c = await led(world)
        made_ = await made(world, c)
        target = f"{URL}/{made_['id']}/{verb}"
        headers = c.lead.headers
        if who == "again":
            first = await world.client.post(target, json=payload, headers=headers)
            assert first.status_code == 200, first.text
        elif who == "unknown":
            target = f"{URL}/{uuid.uuid4()}/{verb}"
        elif who == "stranger":
            headers = await _stranger(world)
        elif who == "anonymous":
            headers = {}
        return Call("POST", target, headers, json=payload)

    return arrange


def export(who: str) -> Arrange:
    """`who`: `lead`, `stranger`, `analyst` (hidden), `closed` (no open request)."""

    async def arrange(world: World) -> Call:
        c = await led(world)
        made_ = await made(world, c)
        headers = c.lead.headers
        if who == "closed":
            done = await world.client.post(
                f"{URL}/{made_['id']}/complete", json={"outcome": "xong"}, headers=headers
            )
            assert done.status_code == 200, done.text
        elif who == "stranger":
            headers = await _stranger(world)
        elif who == "analyst":
            headers = (await world.user(Role.ANALYST, c.lead.agency)).headers
        elif who == "anonymous":
            headers = {}
        url = f"/api/v1/persons/{c.person_id}/export?data_request_id={made_['id']}"
        return Call("GET", url, headers)

    return arrange


def _closing(verb: str) -> list[Case]:
    action = f"data_request.{verb}"
    return [
        Case("the lead", close(verb, "lead"), 200, ((action, "success", "kind:access"),)),
        Case("closed already", close(verb, "again"), 409, ()),
        Case("unknown id", close(verb, "unknown"), 404, ()),
        Case("another agency", close(verb, "stranger"), 404, ((action, "denied"),)),
        Case("anonymous", close(verb, "anonymous"), 401, ()),
    ]


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", URL): [
        Case("the lead", create("lead"), 201, (("data_request.create", "success", "kind:access"),)),
        Case("another agency", create("stranger"), 404, (("data_request.create", "denied"),)),
        Case("analyst, hidden", create("analyst"), 404, (DENIED,)),
        Case("anonymous", create("anonymous"), 401, ()),
    ],
    ("GET", URL): [
        Case("the lead", listing("lead"), 200, (("data_request.list", "success", "overdue:true"),)),
        Case("analyst, hidden", listing("analyst"), 404, (DENIED,)),
        Case("anonymous", listing("anonymous"), 401, ()),
    ],
    ("GET", "/api/v1/persons/{person_id}/export"): [
        Case("the lead", export("lead"), 200, (("person.export", "success"),)),
        Case("request closed", export("closed"), 409, ()),
        Case("another agency", export("stranger"), 404, (("data_request.export", "denied"),)),
        Case("analyst, hidden", export("analyst"), 404, (DENIED,)),
        Case("anonymous", export("anonymous"), 401, ()),
    ],
    ("POST", URL + "/{data_request_id}/complete"): _closing("complete"),
    ("POST", URL + "/{data_request_id}/reject"): _closing("reject"),
}
