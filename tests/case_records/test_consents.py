"""Consents on a case: the age rules, withdrawal, `active_consent`."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import make_sessionmaker
from app.models import Case
from app.services.cases.consents import active_consent
from tests.audit.helpers import events_after, last_event_id
from tests.case_records.factories import make_case, worker
from tests.conftest import World, assert_problem


def url(case: Case, tail: str) -> str:
    return f"/api/v1/cases/{case.id}/{tail}"


def measure_body(agency_id: uuid.UUID, **extra: object) -> dict[str, object]:
    return {
        "measure": "safe_shelter",
        "protected_person": "victim",
        "start": "2026-11-20",
        "end": "2026-12-20",
        "status": "active",
        "responsible_agency_id": str(agency_id),
        **extra,
    }


def born(years_before: int, given: date) -> date:
    return given.replace(year=given.year - years_before) - timedelta(days=10)


GIVEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def consent_body(given_by: str, scope: str = "data_sharing") -> dict[str, object]:
    return {"scope": scope, "given_by": given_by, "given_at": GIVEN.isoformat()}


class TestCreateConsent:
    async def test_anonymous_401(self, world: World) -> None:
        case = await make_case(world, await worker(world))
        assert_problem(
            await world.client.post(url(case, "consents"), json=consent_body("self")), 401
        )

    async def test_other_agency_404_and_denied_row(self, world: World, engine: AsyncEngine) -> None:
        case = await make_case(world, await worker(world))
        other = await worker(world)
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, "consents"), json=consent_body("self"), headers=other.headers
        )
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["reason"]) for e in events] == [("consent.create", "out_of_reach")]

    async def test_expiry_before_given_422(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        body = {**consent_body("self"), "expires_at": (GIVEN - timedelta(days=1)).isoformat()}
        assert_problem(
            await world.client.post(url(case, "consents"), json=body, headers=owner.headers), 422
        )

    async def _check(
        self, world: World, owner_headers: dict[str, str], case: Case, expected: dict[str, int]
    ) -> None:
        for given_by, status in expected.items():
            response = await world.client.post(
                url(case, "consents"), json=consent_body(given_by), headers=owner_headers
            )
            assert response.status_code == status, (given_by, response.text)
            if status == 422:
                assert "errors" in response.json()

    async def test_age_rules(self, world: World) -> None:
        owner = await worker(world)
        given = GIVEN.date()
        rules = {
            5: {"self": 422, "legal_representative": 201, "both": 201},
            10: {"self": 422, "legal_representative": 422, "both": 201},
            17: {"self": 201, "legal_representative": 201, "both": 201},
            30: {"self": 201, "legal_representative": 201, "both": 201},
        }
        for age, expected in rules.items():
            case = await make_case(world, owner, date_of_birth=born(age, given), is_child=age < 16)
            await self._check(world, owner.headers, case, expected)

    async def test_unknown_birth_date_of_child(self, world: World) -> None:
        owner = await worker(world)
        child = await make_case(world, owner, is_child=True)
        await self._check(
            world, owner.headers, child, {"self": 422, "legal_representative": 201, "both": 201}
        )

    async def test_happy_path_and_audit(self, world: World, engine: AsyncEngine) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, "consents"), json=consent_body("self"), headers=owner.headers
        )
        assert response.status_code == 201, response.text
        consent = response.json()
        assert (consent["status"], consent["in_force"]) == ("active", True)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("consent.create", "success")]
        listed = await world.client.get(url(case, "consents"), headers=owner.headers)
        assert [c["id"] for c in listed.json()["items"]] == [consent["id"]]


class TestWithdrawConsent:
    async def _consent(self, world: World) -> tuple[dict[str, str], Case, str]:
        owner = await worker(world)
        case = await make_case(world, owner)
        response = await world.client.post(
            url(case, "consents"), json=consent_body("self", "services"), headers=owner.headers
        )
        assert response.status_code == 201, response.text
        return owner.headers, case, str(response.json()["id"])

    @staticmethod
    async def _active(engine: AsyncEngine, case_id: uuid.UUID, at: datetime) -> object:
        async with make_sessionmaker(engine)() as session:
            return await active_consent(session, case_id, "services", at)

    async def test_anonymous_401(self, world: World) -> None:
        _, case, consent_id = await self._consent(world)
        assert_problem(await world.client.post(url(case, f"consents/{consent_id}/withdraw")), 401)

    async def test_other_agency_404(self, world: World, engine: AsyncEngine) -> None:
        _, case, consent_id = await self._consent(world)
        other = await worker(world)
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, f"consents/{consent_id}/withdraw"), headers=other.headers
        )
        assert_problem(response, 404)
        events = await events_after(engine, mark)
        assert [(e["action"], e["reason"]) for e in events] == [
            ("consent.withdraw", "out_of_reach")
        ]

    async def test_bad_id_422(self, world: World) -> None:
        headers, case, _ = await self._consent(world)
        response = await world.client.post(
            url(case, "consents/not-a-uuid/withdraw"), headers=headers
        )
        assert_problem(response, 422)

    async def test_withdrawal_takes_effect_at_once(self, world: World, engine: AsyncEngine) -> None:
        headers, case, consent_id = await self._consent(world)
        now = datetime.now(UTC)
        assert (await self._active(engine, case.id, now)) is not None
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case, f"consents/{consent_id}/withdraw"), headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["in_force"]) == ("withdrawn", False)
        assert body["withdrawn_at"] is not None
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("consent.withdraw", "success")]
        assert (await self._active(engine, case.id, now)) is None
        again = await world.client.post(
            url(case, f"consents/{consent_id}/withdraw"), headers=headers
        )
        assert_problem(again, 409)


class TestListConsents:
    async def test_anonymous_401(self, world: World) -> None:
        case = await make_case(world, await worker(world))
        assert_problem(await world.client.get(url(case, "consents")), 401)

    async def test_other_agency_404(self, world: World) -> None:
        case = await make_case(world, await worker(world))
        other = await worker(world)
        assert_problem(await world.client.get(url(case, "consents"), headers=other.headers), 404)

    async def test_bad_cursor_422(self, world: World) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        response = await world.client.get(url(case, "consents?cursor=%%%"), headers=owner.headers)
        assert_problem(response, 422)

    async def test_expired_consent_listed_not_in_force(
        self, world: World, engine: AsyncEngine
    ) -> None:
        owner = await worker(world)
        case = await make_case(world, owner)
        body = {**consent_body("self"), "expires_at": (GIVEN + timedelta(days=1)).isoformat()}
        created = await world.client.post(url(case, "consents"), json=body, headers=owner.headers)
        assert created.status_code == 201, created.text
        mark = await last_event_id(engine)
        listed = await world.client.get(url(case, "consents"), headers=owner.headers)
        assert listed.status_code == 200, listed.text
        [item] = listed.json()["items"]
        assert (item["status"], item["in_force"]) == ("active", False)
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("consent.list", "success")]
        async with make_sessionmaker(engine)() as session:
            during = GIVEN + timedelta(hours=1)
            assert await active_consent(session, case.id, "data_sharing", during) is not None
            after = GIVEN + timedelta(days=2)
            assert await active_consent(session, case.id, "data_sharing", after) is None
            assert await active_consent(session, case.id, "reporting", during) is None
