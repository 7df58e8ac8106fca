"""Audit scenarios of an agency's webhook endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case, get_as
from tests.conftest import World

Arrange = Callable[[World], Awaitable[Call]]
WEBHOOKS = "/api/v1/webhooks"
BODY = {"url": "https://1.1.1.1/vcm-hooks", "events": ["referral.created"]}


def create_as(role: Role | None) -> Arrange:
    async def arrange(world: World) -> Call:
        headers = (await world.user(role)).headers if role else {}
        return Call("POST", WEBHOOKS, headers, json=BODY)

    return arrange


def delete_as(who: str) -> Arrange:
    """`who`: owner (the endpoint's agency admin), stranger (another agency's admin),
    worker (no permission), none (anonymous)."""

    async def arrange(world: World) -> Call:
        owner = await world.user(Role.AGENCY_ADMIN)
        created = await world.client.post(WEBHOOKS, json=BODY, headers=owner.headers)
        assert created.status_code == 201, created.text
        url = f"{WEBHOOKS}/{created.json()['id']}"
        if who == "owner":
            return Call("DELETE", url, owner.headers)
        if who == "stranger":
            return Call("DELETE", url, (await world.user(Role.AGENCY_ADMIN)).headers)
        if who == "worker":
            worker = await world.user(Role.CASE_WORKER, owner.agency)
            return Call("DELETE", url, worker.headers)
        return Call("DELETE", f"{WEBHOOKS}/{uuid.uuid4()}", {})

    return arrange


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("GET", WEBHOOKS): [
        Case(
            "agency admin",
            get_as(WEBHOOKS, Role.AGENCY_ADMIN),
            200,
            (("webhook.list", "success"),),
        ),
        Case("supervisor", get_as(WEBHOOKS, Role.SUPERVISOR), 403, (DENIED,)),
        Case("anonymous", get_as(WEBHOOKS, None), 401, ()),
    ],
    ("POST", WEBHOOKS): [
        Case("agency admin", create_as(Role.AGENCY_ADMIN), 201, (("webhook.create", "success"),)),
        Case("case worker", create_as(Role.CASE_WORKER), 403, (DENIED,)),
        Case("anonymous", create_as(None), 401, ()),
    ],
    ("DELETE", WEBHOOKS + "/{webhook_id}"): [
        Case("own agency", delete_as("owner"), 204, (("webhook.delete", "success"),)),
        Case(
            "other agency",
            delete_as("stranger"),
            404,
            (("webhook.delete", "denied", "out_of_reach"),),
        ),
        Case("no permission", delete_as("worker"), 403, (DENIED,)),
        Case("anonymous", delete_as("none"), 401, ()),
    ],
}
