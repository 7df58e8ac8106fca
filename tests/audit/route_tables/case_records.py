"""Audit scenarios of a case's records: evidence, identification, protection
measures, consents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from app.security.permissions import Role
from tests.audit.arrange import DENIED, Call, Case
from tests.case_records.factories import make_case, worker
from tests.conftest import World

Arrange = Callable[[World], Awaitable[Call]]
NOW = datetime.now(UTC).isoformat()
BASE = "/api/v1/cases/{case_id}"
EVIDENCE = {"source": "rescuing_agency", "description": "Biên bản giải cứu (test)"}


async def _post(world: World, headers: dict[str, str], path: str, body: Any) -> dict[str, Any]:
    response = await world.client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _prepare(world: World, route: str, kind: str) -> tuple[dict[str, str], str, Any]:
    """A case (and the record the route addresses); returns the owner's headers, the
    URL, and the body to send."""
    owner = await worker(world, kind)
    status = "verifying" if route == "identification" else "received"
    case = await make_case(world, owner, status=status)
    base = BASE.format(case_id=case.id)
    if route in ("evidence", "identification"):
        evidence = await _post(world, owner.headers, f"{base}/evidence", EVIDENCE)
        if route == "evidence":
            return owner.headers, f"{base}/evidence", EVIDENCE
        body = {
            "decision": "victim",
            "decided_at": NOW,
            "legal_basis": "Điều 24 Luật 53/2024/QH15",
            "evidence_ids": [evidence["id"]],
        }
        return owner.headers, f"{base}/identification", body
    if route in ("protection-measures", "protection-measure"):
        body = {
            "measure": "safe_shelter",
            "protected_person": "victim",
            "start": "2026-11-20",
            "responsible_agency_id": str(owner.agency.id),
        }
        if route == "protection-measures":
            return owner.headers, f"{base}/protection-measures", body
        measure = await _post(world, owner.headers, f"{base}/protection-measures", body)
        return owner.headers, f"{base}/protection-measures/{measure['id']}", {"status": "active"}
    consent = {"scope": "data_sharing", "given_by": "self", "given_at": NOW}
    if route == "consents":
        return owner.headers, f"{base}/consents", consent
    created = await _post(world, owner.headers, f"{base}/consents", consent)
    return owner.headers, f"{base}/consents/{created['id']}/withdraw", None


def call(method: str, route: str, who: str, kind: str = "social_affairs") -> Arrange:
    """`who`: `owner` (a case worker of the owning agency), `other` (a case worker of
    another agency), `sysadmin` (hidden), or `anonymous`."""

    async def arrange(world: World) -> Call:
        headers, path, body = await _prepare(world, route, kind)
        if who == "other":
            headers = (await worker(world, kind)).headers
        elif who == "sysadmin":
            headers = (await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))).headers
        elif who == "anonymous":
            headers = {}
        if method == "PATCH":
            headers = {**headers, "If-Match": '"1"'}
        return Call(method, path, headers, json=body if method != "GET" else None)

    return arrange


def scenarios(method: str, route: str, action: str, kind: str = "social_affairs") -> list[Case]:
    success: tuple[tuple[str, ...], ...] = ((action, "success"),)
    if route == "identification" and method == "POST":
        success = (("case.transition", "success"), (action, "success"))
    ok = 200 if method in ("GET", "PATCH") or route == "consent" else 201
    return [
        Case("owner agency", call(method, route, "owner", kind), ok, success),
        Case(
            "other agency",
            call(method, route, "other", kind),
            404,
            ((action, "denied", "out_of_reach"),),
        ),
        Case("system admin, hidden", call(method, route, "sysadmin", kind), 404, (DENIED,)),
        Case("anonymous", call(method, route, "anonymous", kind), 401, ()),
    ]


ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("POST", f"{BASE}/evidence"): scenarios("POST", "evidence", "evidence.create"),
    ("GET", f"{BASE}/evidence"): scenarios("GET", "evidence", "evidence.list"),
    ("POST", f"{BASE}/identification"): scenarios(
        "POST", "identification", "case.identification", "police"
    ),
    ("GET", f"{BASE}/identification"): scenarios(
        "GET", "identification", "identification.list", "police"
    ),
    ("POST", f"{BASE}/protection-measures"): scenarios(
        "POST", "protection-measures", "protection_measure.create"
    ),
    ("GET", f"{BASE}/protection-measures"): scenarios(
        "GET", "protection-measures", "protection_measure.list"
    ),
    ("PATCH", f"{BASE}/protection-measures/{{measure_id}}"): scenarios(
        "PATCH", "protection-measure", "protection_measure.update"
    ),
    ("POST", f"{BASE}/consents"): scenarios("POST", "consents", "consent.create"),
    ("GET", f"{BASE}/consents"): scenarios("GET", "consents", "consent.list"),
    ("POST", f"{BASE}/consents/{{consent_id}}/withdraw"): scenarios(
        "POST", "consent", "consent.withdraw"
    ),
}
