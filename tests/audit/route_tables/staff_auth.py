"""Audit scenarios of staff authentication: one's own password, TOTP enrolment, and an
administrator's reset of a second factor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pyotp

from app.security.permissions import Role
from tests.audit.arrange import DENIED, STRONG_PASSWORD, Call, Case
from tests.conftest import World
from tests.security.helpers import code, enrol

Arrange = Callable[[World], Awaitable[Call]]
PASSWORD = "/api/v1/auth/password"
TOTP = "/api/v1/auth/mfa/totp"
CONFIRM = "/api/v1/auth/mfa/totp/confirm"


def change_password(current: str | None) -> Arrange:
    """`current`: "right", "wrong", or None (anonymous)."""

    async def arrange(world: World) -> Call:
        if current is None:
            return Call("POST", PASSWORD, json={"current_password": "x", "new_password": "y"})
        actor = await world.user(Role.CASE_WORKER)
        given = actor.password if current == "right" else "not-the-password"
        body = {"current_password": given, "new_password": STRONG_PASSWORD}
        return Call("POST", PASSWORD, actor.headers, json=body)

    return arrange


def start(signed_in: bool) -> Arrange:
    async def arrange(world: World) -> Call:
        headers = (await world.user(Role.CASE_WORKER)).headers if signed_in else {}
        return Call("POST", TOTP, headers)

    return arrange


def confirm(how: str) -> Arrange:
    """`how`: "right" code, "none" started (409), "anonymous"."""

    async def arrange(world: World) -> Call:
        if how == "anonymous":
            return Call("POST", CONFIRM, json={"code": "123456"})
        actor = await world.user(Role.CASE_WORKER)
        if how == "none":
            return Call("POST", CONFIRM, actor.headers, json={"code": "123456"})
        started = await world.client.post(TOTP, headers=actor.headers)
        totp = pyotp.TOTP(started.json()["secret"])
        return Call("POST", CONFIRM, actor.headers, json={"code": code(totp)})

    return arrange


def reset(who: str) -> Arrange:
    """`who`: admin (of the user's agency), stranger (another agency's admin), worker
    (a colleague), anonymous."""

    async def arrange(world: World) -> Call:
        agency = await world.agency()
        target = await world.user(Role.CASE_WORKER, agency)
        await enrol(world, target)
        headers: dict[str, str] = {}
        if who == "admin":
            headers = (await world.user(Role.AGENCY_ADMIN, agency)).headers
        elif who == "stranger":
            headers = (await world.user(Role.AGENCY_ADMIN)).headers
        elif who == "worker":
            headers = (await world.user(Role.CASE_WORKER, agency)).headers
        return Call("DELETE", f"/api/v1/users/{target.id}/mfa", headers)

    return arrange


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", PASSWORD): [
        Case(
            "right password", change_password("right"), 204, (("auth.password_change", "success"),)
        ),
        Case(
            "wrong password",
            change_password("wrong"),
            403,
            (("auth.password_change", "denied", "wrong_password"),),
        ),
        Case("anonymous", change_password(None), 401, ()),
    ],
    ("POST", TOTP): [
        Case("signed in", start(True), 200, (("auth.mfa.enrol", "success"),)),
        Case("anonymous", start(False), 401, ()),
    ],
    ("POST", CONFIRM): [
        Case("right code", confirm("right"), 200, (("auth.mfa.confirm", "success"),)),
        Case("nothing started", confirm("none"), 409, ()),
        Case("anonymous", confirm("anonymous"), 401, ()),
    ],
    ("DELETE", "/api/v1/users/{user_id}/mfa"): [
        Case("own agency", reset("admin"), 204, (("user.mfa_reset", "success"),)),
        Case(
            "other agency",
            reset("stranger"),
            404,
            (("user.mfa_reset", "denied", "out_of_reach"),),
        ),
        Case("no permission", reset("worker"), 403, (DENIED,)),
        Case("anonymous", reset("anonymous"), 401, ()),
    ],
}
