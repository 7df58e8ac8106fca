"""Audit scenarios of the reports (summary, and the periodic return's exact figures)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case
from tests.conftest import World

Arrange = Callable[[World], Awaitable[Call]]
SUMMARY = "/api/v1/reports/summary"
PERIODIC = "/api/v1/reports/periodic"
OUT_OF_SCOPE = "out_of_scope"


def report_as(path: str, role: Role | None, query: str) -> Arrange:
    """A caller of a provincial agency (Nghệ An, 40) asking `path?query`."""

    async def arrange(world: World) -> Call:
        headers = (
            (await world.user(role, await world.agency(province_code="40"))).headers if role else {}
        )
        return Call("GET", f"{path}?{query}", headers)

    return arrange


def _cases(path: str, action: str, query: str) -> list[Case]:
    return [
        Case("analyst", report_as(path, Role.ANALYST, query), 200, ((action, "success"),)),
        Case("supervisor", report_as(path, Role.SUPERVISOR, query), 200, ((action, "success"),)),
        Case(
            "analyst, other province",
            report_as(path, Role.ANALYST, f"{query}&province_code=37"),
            403,
            ((action, "denied", OUT_OF_SCOPE),),
        ),
        Case("case worker", report_as(path, Role.CASE_WORKER, query), 404, (DENIED,)),
        Case("anonymous", report_as(path, None, query), 401, ()),
    ]


def _exact_cases(path: str, action: str, query: str) -> list[Case]:
    """Exact figures: the reporting officer's only; analysts and supervisors refused."""
    officer = Role.REPORTING_OFFICER
    return [
        Case("reporting officer", report_as(path, officer, query), 200, ((action, "success"),)),
        Case("analyst", report_as(path, Role.ANALYST, query), 403, (DENIED,)),
        Case("supervisor", report_as(path, Role.SUPERVISOR, query), 403, (DENIED,)),
        Case(
            "reporting officer, other province",
            report_as(path, officer, f"{query}&province_code=37"),
            403,
            ((action, "denied", OUT_OF_SCOPE),),
        ),
        Case("case worker", report_as(path, Role.CASE_WORKER, query), 404, (DENIED,)),
        Case("anonymous", report_as(path, None, query), 401, ()),
    ]


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("GET", SUMMARY): _cases(SUMMARY, "report.summary", "group_by=sex"),
    ("GET", PERIODIC): _exact_cases(PERIODIC, "report.periodic", "period=2026-S1"),
}
