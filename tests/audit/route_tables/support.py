"""Audit scenarios of support rates and a case's support services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case, get_as
from tests.conftest import Actor, World
from tests.support.factories import make_case
from tests.support.helpers import add_rate, sysadmin, team

Arrange = Callable[[World], Awaitable[Call]]
RATES = "/api/v1/support-rates"
SERVICES = "/api/v1/cases/{case_id}/support-services"
STEP = SERVICES + "/{service_id}/{action}"
RATE = {
    "province_code": "40",
    "type": "travel",
    "unit": "day",
    "amount_vnd": 100_000,
    "effective_from": "2026-01-01",
    "legal_basis": "Nghị quyết mẫu của HĐND tỉnh (sample, test)",
}
SERVICE = {"type": "essential_needs", "quantity": 2, "unit": "day", "service_date": "2026-05-04"}
REASON = {"reason": "Lý do (test)"}


def create_rate_as(role: Role | None) -> Arrange:
    async def arrange(world: World) -> Call:
        if role is Role.SYSTEM_ADMIN:
            headers = (await sysadmin(world)).headers
        else:
            headers = (await world.user(role)).headers if role else {}
        return Call("POST", RATES, headers, json=RATE)

    return arrange


def end_rate_as(role: Role | None) -> Arrange:
    async def arrange(world: World) -> Call:
        admin = await sysadmin(world)
        created = await world.client.post(RATES, json=RATE, headers=admin.headers)
        assert created.status_code == 201, created.text
        if role is Role.SYSTEM_ADMIN:
            headers = admin.headers
        else:
            headers = (await world.user(role)).headers if role else {}
        url = f"{RATES}/{created.json()['id']}/end"
        return Call("POST", url, headers, json={"effective_to": "2026-06-30"})

    return arrange


async def _service(
    world: World, status: str = "requested", *, by_supervisor: bool = False
) -> tuple[Actor, Actor, str, str]:
    """A case with one essential-needs service in `status`, requested by the worker
    (or the supervisor); returns the worker, the supervisor, the case id and the
    service id."""
    worker, supervisor = await team(world)
    case = await make_case(world, worker)
    await add_rate(world, "essential_needs", 60_000)
    requester = supervisor if by_supervisor else worker
    response = await world.client.post(
        SERVICES.format(case_id=case.id), json=SERVICE, headers=requester.headers
    )
    assert response.status_code == 201, response.text
    service_id = response.json()["id"]
    if status == "approved":
        approver = await world.user(Role.SUPERVISOR, worker.agency)
        url = STEP.format(case_id=case.id, service_id=service_id, action="approve")
        assert (await world.client.post(url, headers=approver.headers)).status_code == 200
    return worker, supervisor, str(case.id), service_id


def services_as(method: str, who: str) -> Arrange:
    """`who`: owner (the case's worker), stranger (another agency's worker), none."""

    async def arrange(world: World) -> Call:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        await add_rate(world, "essential_needs", 60_000)
        headers = {
            "owner": worker.headers,
            "stranger": (await world.user(Role.CASE_WORKER)).headers,
            "none": {},
        }[who]
        body = SERVICE if method == "POST" else None
        return Call(method, SERVICES.format(case_id=case.id), headers, json=body)

    return arrange


def step_as(action: str, who: str, start: str = "requested") -> Arrange:
    """`who`: supervisor, worker (both of the owning agency; the worker requested the
    service), requester (the supervisor, who requested it), stranger, none."""

    async def arrange(world: World) -> Call:
        worker, supervisor, case_id, service_id = await _service(
            world, start, by_supervisor=who == "requester"
        )
        headers = {
            "supervisor": supervisor.headers,
            "requester": supervisor.headers,
            "worker": worker.headers,
            "stranger": (await world.user(Role.SUPERVISOR)).headers,
            "none": {},
        }[who]
        url = STEP.format(case_id=case_id, service_id=service_id, action=action)
        body: Any = REASON if action in ("reject", "cancel") else None
        return Call("POST", url, headers, json=body)

    return arrange


def _out_of_reach(action: str) -> tuple[str, ...]:
    return (f"support_service.{action}", "denied", "out_of_reach")


def _step_cases(action: str, actor: str, start: str) -> list[Case]:
    cases = [
        Case(
            "owning agency",
            step_as(action, actor, start),
            200,
            ((f"support_service.{action}", "success"),),
        ),
        Case("other agency", step_as(action, "stranger", start), 404, (_out_of_reach(action),)),
        Case("anonymous", step_as(action, "none", start), 401, ()),
    ]
    if action in ("approve", "reject", "deliver"):
        cases.append(
            Case(
                "its requester (four eyes)",
                step_as(action, "requester", start),
                403,
                ((f"support_service.{action}", "denied", "four_eyes"),),
            )
        )
    if action in ("approve", "reject"):
        cases.append(
            Case(
                "case worker",
                step_as(action, "worker", start),
                403,
                ((f"support_service.{action}", "denied", "missing_permission:cases:approve"),),
            )
        )
    return cases


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", RATES + "/{rate_id}/end"): [
        Case(
            "system admin",
            end_rate_as(Role.SYSTEM_ADMIN),
            200,
            (("support_rate.end", "success"),),
        ),
        Case("supervisor", end_rate_as(Role.SUPERVISOR), 403, (DENIED,)),
        Case("anonymous", end_rate_as(None), 401, ()),
    ],
    ("GET", RATES): [
        Case(
            "case worker", get_as(RATES, Role.CASE_WORKER), 200, (("support_rate.list", "success"),)
        ),
        Case("analyst", get_as(RATES, Role.ANALYST), 200, (("support_rate.list", "success"),)),
        Case("auditor", get_as(RATES, Role.AUDITOR), 403, (DENIED,)),
        Case("anonymous", get_as(RATES, None), 401, ()),
    ],
    ("POST", RATES): [
        Case(
            "system admin",
            create_rate_as(Role.SYSTEM_ADMIN),
            201,
            (("support_rate.create", "success"),),
        ),
        Case("supervisor", create_rate_as(Role.SUPERVISOR), 403, (DENIED,)),
        Case("anonymous", create_rate_as(None), 401, ()),
    ],
    ("POST", SERVICES): [
        Case(
            "owning agency",
            services_as("POST", "owner"),
            201,
            (("support_service.create", "success"),),
        ),
        Case("other agency", services_as("POST", "stranger"), 404, (_out_of_reach("create"),)),
        Case("anonymous", services_as("POST", "none"), 401, ()),
    ],
    ("GET", SERVICES): [
        Case(
            "owning agency",
            services_as("GET", "owner"),
            200,
            (("support_service.list", "success"),),
        ),
        Case("other agency", services_as("GET", "stranger"), 404, (_out_of_reach("list"),)),
        Case("anonymous", services_as("GET", "none"), 401, ()),
    ],
    ("POST", SERVICES + "/{service_id}/approve"): _step_cases("approve", "supervisor", "requested"),
    ("POST", SERVICES + "/{service_id}/reject"): _step_cases("reject", "supervisor", "requested"),
    ("POST", SERVICES + "/{service_id}/deliver"): _step_cases("deliver", "supervisor", "approved"),
    ("POST", SERVICES + "/{service_id}/cancel"): _step_cases("cancel", "worker", "requested"),
}
