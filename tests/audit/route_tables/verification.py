"""Audit scenarios of a case's initial verification record."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case
from tests.case_records.factories import make_case, worker
from tests.conftest import World

BASE = "/api/v1/cases/{case_id}"


def body(agency_id: object) -> dict[str, Any]:
    return {
        "outcome": "grounds_found",
        "completed_at": datetime.now(UTC).isoformat(),
        "agency_ids": [str(agency_id)],
        "note": "Đã xác minh cùng công an tỉnh (test)",
    }


def call(method: str, who: str) -> Callable[[World], Awaitable[Call]]:
    """`who`: `owner`, `other` (another agency's case worker), `sysadmin`, `anonymous`."""

    async def arrange(world: World) -> Call:
        owner = await worker(world)
        case = await make_case(world, owner)
        url = f"{BASE.format(case_id=case.id)}/verification"
        if method == "GET":
            made = await world.client.post(url, json=body(owner.agency.id), headers=owner.headers)
            assert made.status_code == 201, made.text
        headers = owner.headers
        if who == "other":
            headers = (await worker(world)).headers
        elif who == "sysadmin":
            headers = (await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))).headers
        elif who == "anonymous":
            headers = {}
        return Call(method, url, headers, json=body(owner.agency.id) if method == "POST" else None)

    return arrange


def scenarios(method: str, action: str) -> list[Case]:
    return [
        Case("owner agency", call(method, "owner"), 201 if method == "POST" else 200,
             ((action, "success"),)),
        Case("other agency", call(method, "other"), 404, ((action, "denied", "out_of_reach"),)),
        Case("system admin, hidden", call(method, "sysadmin"), 404, (DENIED,)),
        Case("anonymous", call(method, "anonymous"), 401, ()),
    ]  # fmt: skip


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", f"{BASE}/verification"): scenarios("POST", "verification.create"),
    ("GET", f"{BASE}/verification"): scenarios("GET", "verification.list"),
}
