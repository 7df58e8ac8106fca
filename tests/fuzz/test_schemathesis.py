"""Schemathesis against the app's own OpenAPI document, as each role, as an
integration client (client-credentials token with every client scope) and anonymous.

Every operation the schema lists gets `VCM_FUZZ_EXAMPLES` valid-looking requests whose
path ids name records that exist (so handlers run past the lookup) and as many
schema-violating ones with random ids. Every answer must be no server error, carry a
documented status and content type, and match the documented schema. `make fuzz`
raises the number of examples.
"""

from __future__ import annotations

import pytest
from schemathesis import GenerationMode

from app.security.permissions import CLIENT_SCOPES, Role
from tests.conftest import World
from tests.fuzz.harness import Finding, draw, exercise, load_schema, operations
from tests.integration_clients.helpers import client_headers, register
from tests.owasp.scenario import USER_ROLES, Scenario, build

SCHEMA = load_schema()
OPERATIONS = operations(SCHEMA)


def test_the_schema_lists_operations() -> None:
    assert len(OPERATIONS) >= 40


CALLERS: list[Role | None] = [None, *USER_ROLES, Role.INTEGRATION_CLIENT]


async def _client_headers(world: World, scenario: Scenario) -> dict[str, str]:
    """A client of the scenario's agency holding every scope a client may hold."""
    admin = scenario.actors[Role.AGENCY_ADMIN]
    scopes = tuple(sorted(p.value for p in CLIENT_SCOPES))
    return await client_headers(world, await register(world, scopes, admin=admin))


@pytest.mark.fuzz
@pytest.mark.parametrize("role", CALLERS, ids=lambda r: r or "anonymous")
async def test_every_operation_as_role(world: World, role: Role | None) -> None:
    scenario = await build(world)
    if role is Role.INTEGRATION_CLIENT:
        headers = await _client_headers(world, scenario)
    else:
        headers = scenario.headers(role) if role else {}
    findings: list[Finding] = []
    statuses: set[int] = set()
    for operation in OPERATIONS:
        names = [p.name for p in operation.path_parameters]
        known = {name: scenario.ids[name] for name in names if name in scenario.ids}
        cases = draw(operation, GenerationMode.POSITIVE, path_parameters=known)
        cases += draw(operation, GenerationMode.NEGATIVE)
        for case in cases:
            status, finding = await exercise(world.client, case, headers)
            statuses.add(status)
            if finding:
                findings.append(finding)
    # The run reached handlers (not only the token check) and validation refused input.
    assert {200, 422} <= statuses if role else 401 in statuses, sorted(statuses)
    assert not findings, f"{len(findings)} findings:\n" + "\n\n".join(map(str, findings[:15]))
