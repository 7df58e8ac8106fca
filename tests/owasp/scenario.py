"""A realistic agency, made through the API: one user of each role and one record of
every kind that has an id in a path, so security tests and the fuzzer reach real rows
and not only 404s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body
from tests.conftest import Actor, World
from tests.hotline.helpers import report_body

NOW = "2026-01-15T08:00:00+00:00"
# Roles a user can hold: an integration client's principal is not a user (no login).
USER_ROLES = [role for role in Role if role.value != "integration_client"]


@dataclass
class Scenario:
    """Users by role and record ids by path parameter name (`case_id`, `consent_id`...)."""

    actors: dict[Role, Actor]
    ids: dict[str, str] = field(default_factory=dict)
    # Every JSON answer seen while arranging, for the "no secret column" checks.
    answers: list[Any] = field(default_factory=list)
    # The victim as typed at intake: identity values that must never show in clear.
    victim: dict[str, Any] = field(default_factory=dict)

    def headers(self, role: Role) -> dict[str, str]:
        return self.actors[role].headers


async def _post(world: World, scenario: Scenario, actor: Actor, path: str, body: Any) -> Any:
    response = await world.client.post(path, json=body, headers=actor.headers)
    assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"
    scenario.answers.append(response.json())
    return response.json()


async def build(world: World) -> Scenario:
    """Agency A (social affairs, Nghệ An) with every case-working role, a hotline centre
    with an operator, a national agency with the system administrator, and a case with
    a consent, evidence, a protection measure and a support service."""
    agency = await world.agency("social_affairs", "40")
    hotline = await world.agency("hotline")
    national = await world.agency("national")
    homes = {Role.SYSTEM_ADMIN: national, Role.HOTLINE_OPERATOR: hotline}
    actors = {role: await world.user(role, homes.get(role, agency)) for role in USER_ROLES}
    s = Scenario(actors=actors)
    worker = actors[Role.CASE_WORKER]
    s.ids["agency_id"] = str(agency.id)
    s.ids["user_id"] = str(worker.id)

    rate = await _post(
        world, s, actors[Role.SYSTEM_ADMIN], "/api/v1/support-rates",
        {"province_code": "40", "type": "medical", "unit": "session", "amount_vnd": 200_000,
         "effective_from": "2020-01-01", "legal_basis": "Nghị quyết mẫu (test)"},
    )  # fmt: skip
    s.ids["rate_id"] = rate["id"]

    intake = intake_body()
    s.victim = intake["victim"]
    case = await _post(world, s, worker, "/api/v1/cases", intake)
    s.ids["case_id"] = case["id"]
    s.ids["person_id"] = case["victim"]["id"]
    base = f"/api/v1/cases/{case['id']}"
    consent = await _post(
        world, s, worker, f"{base}/consents",
        {"scope": "services", "given_by": "self", "given_at": NOW},
    )  # fmt: skip
    s.ids["consent_id"] = consent["id"]
    evidence = await _post(
        world, s, worker, f"{base}/evidence",
        {"source": "rescuing_agency", "description": "biên bản giải cứu", "obtained_at": NOW},
    )  # fmt: skip
    s.ids["evidence_id"] = evidence["id"]
    measure = await _post(
        world, s, worker, f"{base}/protection-measures",
        {"measure": "safe_shelter", "protected_person": "victim", "start": "2026-01-15",
         "responsible_agency_id": str(agency.id)},
    )  # fmt: skip
    s.ids["measure_id"] = measure["id"]
    service = await _post(
        world, s, worker, f"{base}/support-services",
        {"type": "medical", "quantity": 1, "unit": "session", "service_date": "2026-01-15"},
    )  # fmt: skip
    s.ids["service_id"] = service["id"]

    report = await _post(
        world, s, actors[Role.HOTLINE_OPERATOR], "/api/v1/hotline-reports", report_body()
    )
    s.ids["report_id"] = report["id"]
    return s
