"""Audit scenarios of an agency's webhook endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import text

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


def delivery_call(method: str, suffix: str, who: str) -> Arrange:
    """A call on an endpoint's deliveries (`suffix` after `/{webhook_id}`, with
    `{delivery_id}` filled by a ping's delivery) by `who`: owner, stranger, worker or
    none, as for `delete_as`."""

    async def arrange(world: World) -> Call:
        owner = await world.user(Role.AGENCY_ADMIN)
        created = await world.client.post(WEBHOOKS, json=BODY, headers=owner.headers)
        assert created.status_code == 201, created.text
        base = f"{WEBHOOKS}/{created.json()['id']}"
        pinged = await world.client.post(f"{base}/ping", headers=owner.headers)
        assert pinged.status_code == 201, pinged.text
        url = base + suffix.replace("{delivery_id}", pinged.json()["id"])
        if who == "owner":
            return Call(method, url, owner.headers)
        if who == "stranger":
            return Call(method, url, (await world.user(Role.AGENCY_ADMIN)).headers)
        if who == "worker":
            return Call(method, url, (await world.user(Role.CASE_WORKER, owner.agency)).headers)
        return Call(method, url, {})

    return arrange


async def _delivered(world: World) -> None:
    """Marks the pending deliveries delivered, so they may be redelivered."""
    await world.session.execute(
        text("UPDATE webhook_deliveries SET status = 'delivered' WHERE status = 'pending'")
    )
    await world.session.commit()


def redeliver_as(who: str) -> Arrange:
    inner = delivery_call("POST", "/deliveries/{delivery_id}/redeliver", who)

    async def arrange(world: World) -> Call:
        call = await inner(world)
        await _delivered(world)
        return call

    return arrange


def _delivery_cases(method: str, suffix: str, action: str, ok: int) -> list[Case]:
    arrange = (
        redeliver_as
        if suffix.endswith("/redeliver")
        else (lambda who: delivery_call(method, suffix, who))
    )
    return [
        Case("own agency", arrange("owner"), ok, ((action, "success"),)),
        Case("other agency", arrange("stranger"), 404, ((action, "denied", "out_of_reach"),)),
        Case("no permission", arrange("worker"), 403, (DENIED,)),
        Case("anonymous", arrange("none"), 401, ()),
    ]


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
    ("GET", WEBHOOKS + "/{webhook_id}/deliveries"): _delivery_cases(
        "GET", "/deliveries", "webhook.delivery_list", 200
    ),
    ("GET", WEBHOOKS + "/{webhook_id}/deliveries/{delivery_id}"): _delivery_cases(
        "GET", "/deliveries/{delivery_id}", "webhook.delivery_read", 200
    ),
    ("POST", WEBHOOKS + "/{webhook_id}/deliveries/{delivery_id}/redeliver"): _delivery_cases(
        "POST", "/deliveries/{delivery_id}/redeliver", "webhook.redeliver", 201
    ),
    ("POST", WEBHOOKS + "/{webhook_id}/ping"): _delivery_cases(
        "POST", "/ping", "webhook.ping", 201
    ),
}
