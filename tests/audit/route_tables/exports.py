"""Audit scenarios of the de-identified exports (`GET /api/v1/exports/ctdc.csv`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case, get_as, headers_for
from tests.conftest import World

Arrange = Callable[[World], Awaitable[Call]]
CTDC = "/api/v1/exports/ctdc.csv"


def analyst_of_40_asking_for(province_code: str) -> Arrange:
    async def arrange(world: World) -> Call:
        headers = await headers_for(world, Role.ANALYST)  # social affairs of province 40
        return Call("GET", f"{CTDC}?province_code={province_code}", headers)

    return arrange


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("GET", CTDC): [
        Case(
            "analyst, own province", get_as(CTDC, Role.ANALYST), 200, (("export.ctdc", "success"),)
        ),
        Case(
            "analyst, named own province",
            analyst_of_40_asking_for("40"),
            200,
            (("export.ctdc", "success"),),
        ),
        Case(
            "analyst, another province",
            analyst_of_40_asking_for("37"),
            403,
            (("export.ctdc", "denied", "out_of_scope"),),
        ),
        Case("case worker", get_as(CTDC, Role.CASE_WORKER), 404, (DENIED,)),
        Case("system admin", get_as(CTDC, Role.SYSTEM_ADMIN), 404, (DENIED,)),
        Case("anonymous", get_as(CTDC, None), 401, ()),
    ],
}
