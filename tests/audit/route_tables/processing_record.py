"""Audit scenarios of the record of processing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case
from tests.conftest import World

Arrange = Callable[[World], Awaitable[Call]]
URL = "/api/v1/reports/processing-record"


def read(role: Role | None) -> Arrange:
    async def arrange(world: World) -> Call:
        if role is None:
            return Call("GET", URL, {})
        home = "national" if role in (Role.AUDITOR, Role.SYSTEM_ADMIN) else "social_affairs"
        actor = await world.user(role, await world.agency(home, "40"))
        return Call("GET", URL, actor.headers)

    return arrange


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("GET", URL): [
        Case("auditor", read(Role.AUDITOR), 200, (("report.processing_record", "success"),)),
        Case("analyst", read(Role.ANALYST), 403, (DENIED,)),
        Case("anonymous", read(None), 401, ()),
    ],
}
