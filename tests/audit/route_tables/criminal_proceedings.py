"""Audit scenarios of a case's criminal proceedings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case
from tests.case_records.factories import make_case, worker
from tests.conftest import World

Arrange = Callable[[World], Awaitable[Call]]
BASE = "/api/v1/cases/{case_id}/criminal-proceedings"
BODY = {"reference": "Vụ án số 7/2026/CSHS (test)", "stage": "investigating"}


def call(method: str, who: str) -> Arrange:
    """`who`: `owner` (a case worker of the police agency leading the case), `other`
    (another police agency's), `social` (a social-affairs lead: may read, not record),
    `sysadmin` (hidden), or `anonymous`."""

    async def arrange(world: World) -> Call:
        owner = await worker(world, "police" if who != "social" else "social_affairs")
        case = await make_case(world, owner)
        url = BASE.format(case_id=case.id)
        body: object = BODY
        if method == "PATCH":
            response = await world.client.post(url, json=BODY, headers=owner.headers)
            assert response.status_code == 201, response.text
            url = f"{url}/{response.json()['id']}"
            body = {"stage": "prosecuted"}
        headers = owner.headers
        if who == "other":
            headers = (await worker(world, "police")).headers
        elif who == "sysadmin":
            headers = (await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))).headers
        elif who == "anonymous":
            headers = {}
        if method == "PATCH":
            headers = {**headers, "If-Match": '"1"'}
        return Call(method, url, headers, json=body if method != "GET" else None)

    return arrange


def scenarios(method: str, action: str) -> list[Case]:
    ok = 201 if method == "POST" else 200
    cases = [
        Case("police lead", call(method, "owner"), ok, ((action, "success"),)),
        Case("other agency", call(method, "other"), 404, ((action, "denied", "out_of_reach"),)),
        Case("system admin, hidden", call(method, "sysadmin"), 404, (DENIED,)),
        Case("anonymous", call(method, "anonymous"), 401, ()),
    ]
    if method == "POST":
        missing = "missing_function:investigate:investigate_border"
        cases.append(
            Case("social-affairs lead", call(method, "social"), 403, ((action, "denied", missing),))
        )
    return cases


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", "/api/v1/cases/{case_id}/criminal-proceedings"): scenarios(
        "POST", "criminal_proceeding.create"
    ),
    ("GET", "/api/v1/cases/{case_id}/criminal-proceedings"): scenarios(
        "GET", "criminal_proceeding.list"
    ),
    ("PATCH", "/api/v1/cases/{case_id}/criminal-proceedings/{proceeding_id}"): scenarios(
        "PATCH", "criminal_proceeding.update"
    ),
}
