"""Audit scenarios of the persons of a case: add, list, read (masked and revealed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case, headers_for
from tests.cases.intake_helpers import open_case
from tests.conftest import World, fake

Arrange = Callable[[World], Awaitable[Call]]
BASE = "/api/v1/cases/{case_id}/persons"
REVEAL = {"X-Purpose-Of-Use": "protection"}


def person_body() -> dict[str, Any]:
    return {"kind": "relative", "relation": "mẹ", "full_name": fake.name(), "sex": "female"}


def call(
    method: str,
    *,
    who: str = "owner",
    one: bool = False,
    query: str = "",
    headers: dict[str, str] | None = None,
    replay: bool = False,
    victim: bool = False,
) -> Arrange:
    """A call on the persons of a case that has one relative: by `who` (`owner`, a case
    worker of `other` agency, `sysadmin`, `anonymous`); `one`: the relative's own
    resource (`victim`: the victim's id there instead)."""

    async def arrange(world: World) -> Call:
        owner = await world.user(Role.CASE_WORKER)
        case = await open_case(world, owner)
        base = BASE.format(case_id=case["id"])
        added = await world.client.post(base, json=person_body(), headers=owner.headers)
        assert added.status_code == 201, added.text
        caller = {
            "owner": owner.headers,
            "other": (await world.user(Role.CASE_WORKER)).headers,
            "sysadmin": await headers_for(world, Role.SYSTEM_ADMIN),
            "anonymous": {},
        }[who]
        url = base
        if one:
            url = f"{base}/{case['victim']['id'] if victim else added.json()['id']}"
        body = person_body() if method == "POST" else None
        caller = {**caller, **(headers or {})}
        if replay:
            caller = {**caller, "Idempotency-Key": "same-person"}
            first = await world.client.post(url, json=body, headers=caller)
            assert first.status_code == 201, first.text
        return Call(method, url + query, caller, json=body)

    return arrange


def _reads(action: str, *, one: bool) -> list[Case]:
    return [
        Case("owner agency, masked", call("GET", one=one), 200, ((action, "success"),)),
        Case(
            "owner agency, revealed",
            call("GET", one=one, query="?reveal=identity", headers=REVEAL),
            200,
            (("case_person.reveal", "success"),),
        ),
        Case("reveal without purpose", call("GET", one=one, query="?reveal=identity"), 422, ()),
        Case(
            "other agency",
            call("GET", who="other", one=one),
            404,
            ((action, "denied", "out_of_reach"),),
        ),
        Case("system admin, hidden", call("GET", who="sysadmin", one=one), 404, (DENIED,)),
        Case("anonymous", call("GET", who="anonymous", one=one), 401, ()),
    ]


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", BASE): [
        Case("owner agency", call("POST"), 201, (("case_person.create", "success"),)),
        Case(
            "idempotent replay",
            call("POST", replay=True),
            201,
            (
                ("case_person.create", "success", "idempotent_replay"),
                ("case_person.read", "success"),
            ),
        ),
        Case(
            "other agency",
            call("POST", who="other"),
            404,
            (("case_person.create", "denied", "out_of_reach"),),
        ),
        Case("system admin, hidden", call("POST", who="sysadmin"), 404, (DENIED,)),
        Case("anonymous", call("POST", who="anonymous"), 401, ()),
    ],
    ("GET", BASE): _reads("case_person.list", one=False),
    ("GET", f"{BASE}/{{person_id}}"): [
        *_reads("case_person.read", one=True),
        Case("the victim is not one of them", call("GET", one=True, victim=True), 404, ()),
    ],
}
