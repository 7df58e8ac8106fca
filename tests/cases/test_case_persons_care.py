"""Protection and supports of the persons added to a case: every one of them may be
protected; supports only for an accompanying minor, within what the entitlement table
gives (a–h once the case is identified)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.security.permissions import Role
from tests.cases.test_case_persons import add, lead_case, person_body
from tests.conftest import Actor, World, assert_problem
from tests.support.factories import make_case
from tests.support.helpers import add_rate

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")


def measure(agency_id: Any, protected: str, person_id: str) -> dict[str, Any]:
    return {
        "measure": "identity_confidentiality",
        "protected_person": protected,
        "protected_person_id": person_id,
        "start": "2026-11-20",
        "responsible_agency_id": str(agency_id),
    }


class TestProtectionOfAddedPersons:
    @pytest.mark.parametrize(
        ("kind", "protected"),
        [
            ("witness", "witness"),
            ("helper", "helper"),
            ("relative", "relative"),
            ("accompanying_minor", "minor"),
        ],
    )
    async def test_a_measure_protects_each_added_person(
        self, world: World, kind: str, protected: str
    ) -> None:
        owner, case = await lead_case(world)
        person = await add(world, owner, case["id"], person_body(kind))
        url = f"/api/v1/cases/{case['id']}/protection-measures"
        response = await world.client.post(
            url, json=measure(owner.agency.id, protected, person["id"]), headers=owner.headers
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert (created["protected_person"], created["protected_person_id"]) == (
            protected,
            person["id"],
        )

    async def test_a_witness_without_a_named_person_is_protected(self, world: World) -> None:
        owner, case = await lead_case(world)
        body = measure(owner.agency.id, "witness", "")
        del body["protected_person_id"]
        response = await world.client.post(
            f"/api/v1/cases/{case['id']}/protection-measures", json=body, headers=owner.headers
        )
        assert response.status_code == 201, response.text

    async def test_the_role_named_must_be_the_persons(self, world: World) -> None:
        owner, case = await lead_case(world)
        witness = await add(world, owner, case["id"], person_body("witness"))
        response = await world.client.post(
            f"/api/v1/cases/{case['id']}/protection-measures",
            json=measure(owner.agency.id, "helper", witness["id"]),
            headers=owner.headers,
        )
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["field"] == "protected_person_id"  # type: ignore[index]


class TestSupportOfAddedPersons:
    async def _identified_case(self, world: World) -> tuple[Actor, uuid.UUID]:
        owner = await world.user(Role.CASE_WORKER, await world.agency("social_affairs", "40"))
        made = await make_case(world, owner, status="identified")
        for support in ("schooling", "vocational", "essential_needs"):
            await add_rate(world, support, 100_000)
        return owner, made.id

    async def _ask(
        self, world: World, owner: Actor, case_id: uuid.UUID, support: str, person_id: str
    ) -> Any:
        body = {
            "type": support,
            "quantity": 1,
            "unit": "day",
            "service_date": "2026-03-02",
            "person_id": person_id,
        }
        return await world.client.post(
            f"/api/v1/cases/{case_id}/support-services", json=body, headers=owner.headers
        )

    async def test_an_added_accompanying_minor_gets_a_to_h(self, world: World) -> None:
        owner, case_id = await self._identified_case(world)
        minor = await add(world, owner, case_id, person_body("accompanying_minor", age_estimate=9))
        schooling = await self._ask(world, owner, case_id, "schooling", minor["id"])
        assert schooling.status_code == 201, schooling.text
        assert schooling.json()["person_id"] == minor["id"]
        vocational = await self._ask(world, owner, case_id, "vocational", minor["id"])
        problem = assert_problem(vocational, 422)
        assert "accompanying_minor" in str(problem["detail"])

    @pytest.mark.parametrize("kind", ["relative", "helper", "witness"])
    async def test_relatives_helpers_and_witnesses_get_no_support(
        self, world: World, kind: str
    ) -> None:
        owner, case_id = await self._identified_case(world)
        person = await add(world, owner, case_id, person_body(kind))
        response = await self._ask(world, owner, case_id, "essential_needs", person["id"])
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["field"] == "person_id"  # type: ignore[index]
        message = str(problem["errors"][0]["message"])  # type: ignore[index]
        assert f"role '{kind}' is entitled to no support" in message
        assert "protected, not supported" in message
