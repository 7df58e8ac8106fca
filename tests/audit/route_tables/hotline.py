"""Route audit table of hotline 111 reports: record, list, read or reveal, triage."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case, get_as, headers_for
from tests.conftest import World
from tests.hotline.helpers import BASE, operator, record_report, report_body

Arrange = Callable[[World], Awaitable[Call]]


def create_report_as(role: Role | None, *, replay: bool = False) -> Arrange:
    async def arrange(world: World) -> Call:
        if role == Role.HOTLINE_OPERATOR:
            headers = (await operator(world)).headers
        else:
            headers = await headers_for(world, role) if role else {}
        body = report_body()
        if replay:
            headers = {**headers, "Idempotency-Key": "same-report"}
            first = await world.client.post(BASE, json=body, headers=headers)
            assert first.status_code == 201, first.text
        return Call("POST", BASE, headers, json=body)

    return arrange


def on_report(
    method: str,
    suffix: str = "",
    *,
    who: str = "owner",
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> Arrange:
    """A call on an existing report by `who`: a `colleague` operator of the owning
    centre, a `supervisor` of it, an operator of another centre (`stranger`), a
    `system_admin`, `anonymous`, or `missing` (a colleague, on no such report)."""

    async def arrange(world: World) -> Call:
        owner = await operator(world)
        report_id, _ = await record_report(world, owner)
        target = str(report_id)
        if who == "colleague":
            caller = (await world.user(Role.HOTLINE_OPERATOR, owner.agency)).headers
        elif who == "supervisor":
            caller = (await world.user(Role.SUPERVISOR, owner.agency)).headers
        elif who == "stranger":
            caller = (await operator(world)).headers
        elif who == "system_admin":
            caller = await headers_for(world, Role.SYSTEM_ADMIN)
        elif who == "missing":
            caller, target = owner.headers, str(uuid.uuid4())
        else:
            caller = {}
        return Call(method, f"{BASE}/{target}{suffix}", {**caller, **(headers or {})}, json=json)

    return arrange


async def _forwarded_twice(world: World) -> Call:
    owner = await operator(world)
    police = await world.agency("police")
    report_id, _ = await record_report(world, owner)
    body = {"action": "forward", "to_agency_id": str(police.id)}
    headers = {**owner.headers, **IF_MATCH}
    first = await world.client.post(f"{BASE}/{report_id}/triage", json=body, headers=headers)
    assert first.status_code == 200, first.text
    return Call("POST", f"{BASE}/{report_id}/triage", headers, json=body)


async def _opened_by_forward_target(world: World) -> Call:
    owner = await operator(world)
    police = await world.agency("police")
    supervisor = await world.user(Role.SUPERVISOR, police)
    report_id, _ = await record_report(world, owner)
    body = {"action": "forward", "to_agency_id": str(police.id)}
    headers = {**owner.headers, **IF_MATCH}
    first = await world.client.post(f"{BASE}/{report_id}/triage", json=body, headers=headers)
    assert first.status_code == 200, first.text
    return Call(
        "POST",
        f"{BASE}/{report_id}/triage",
        {**supervisor.headers, "If-Match": '"2"'},
        json={"action": "open_case"},
    )


REVEAL = {"X-Purpose-Of-Use": "protection"}
IF_MATCH = {"If-Match": '"1"'}
CLOSE = {"action": "close", "reason": "Người gọi báo nhầm (test)"}
TRIAGE = "/triage"

ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", "/api/v1/hotline-reports"): [
        Case(
            "hotline operator",
            create_report_as(Role.HOTLINE_OPERATOR),
            201,
            (("hotline_report.create", "success"),),
        ),
        Case(
            "idempotent replay",
            create_report_as(Role.HOTLINE_OPERATOR, replay=True),
            201,
            (
                ("hotline_report.create", "success", "idempotent_replay"),
                ("hotline_report.read", "success"),
            ),
        ),
        Case("case worker", create_report_as(Role.CASE_WORKER), 404, (DENIED,)),
        Case("system admin", create_report_as(Role.SYSTEM_ADMIN), 404, (DENIED,)),
        Case("anonymous", create_report_as(None), 401, ()),
    ],
    ("GET", "/api/v1/hotline-reports"): [
        Case(
            "hotline operator",
            get_as(BASE, Role.HOTLINE_OPERATOR),
            200,
            (("hotline_report.list", "success"),),
        ),
        Case("analyst", get_as(BASE, Role.ANALYST), 404, (DENIED,)),
        Case("anonymous", get_as(BASE, None), 401, ()),
    ],
    ("GET", "/api/v1/hotline-reports/{report_id}"): [
        Case(
            "own centre, masked",
            on_report("GET", who="colleague"),
            200,
            (("hotline_report.read", "success"),),
        ),
        Case(
            "own centre, revealed",
            on_report("GET", "?reveal=identity", who="colleague", headers=REVEAL),
            200,
            (("hotline_report.reveal", "success"),),
        ),
        Case(
            "other centre",
            on_report("GET", who="stranger"),
            404,
            (("hotline_report.read", "denied", "out_of_reach"),),
        ),
        Case("no such report", on_report("GET", who="missing"), 404, ()),
        Case("system admin", on_report("GET", who="system_admin"), 404, (DENIED,)),
        Case("anonymous", on_report("GET", who="anonymous"), 401, ()),
    ],
    ("POST", "/api/v1/hotline-reports/{report_id}/triage"): [
        Case(
            "close",
            on_report("POST", TRIAGE, headers=IF_MATCH, who="colleague", json=CLOSE),
            200,
            (("hotline_report.triage", "success", "close"),),
        ),
        Case(
            "open a case",
            _opened_by_forward_target,
            200,
            (("case.create", "success"), ("hotline_report.triage", "success", "open_case")),
        ),
        Case(
            "the centre may not open a case",
            on_report(
                "POST", TRIAGE, headers=IF_MATCH, who="supervisor", json={"action": "open_case"}
            ),
            403,
            (("hotline_report.triage", "denied", "missing_function:receive"),),
        ),
        Case(
            "operator may not open a case",
            on_report(
                "POST", TRIAGE, headers=IF_MATCH, who="colleague", json={"action": "open_case"}
            ),
            403,
            (("hotline_report.triage", "denied", "missing_permission:cases:write"),),
        ),
        Case("already triaged", _forwarded_twice, 409, ()),
        Case("without If-Match", on_report("POST", TRIAGE, who="colleague", json=CLOSE), 428, ()),
        Case(
            "other centre",
            on_report("POST", TRIAGE, headers=IF_MATCH, who="stranger", json=CLOSE),
            404,
            (("hotline_report.triage", "denied", "out_of_reach"),),
        ),
        Case(
            "system admin",
            on_report("POST", TRIAGE, headers=IF_MATCH, who="system_admin", json=CLOSE),
            404,
            (DENIED,),
        ),
        Case(
            "anonymous",
            on_report("POST", TRIAGE, headers=IF_MATCH, who="anonymous", json=CLOSE),
            401,
            (),
        ),
    ],
}
