"""GET|POST /api/v1/support-rates and `rate_in_force`."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.security.permissions import Role
from app.services.support_rates import DEMO_RATES, rate_in_force, seed_demo_rates
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.support.helpers import add_rate, sysadmin

URL = "/api/v1/support-rates"


def rate_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "province_code": "40",
        "type": "essential_needs",
        "unit": "day",
        "amount_vnd": 60_000,
        "effective_from": "2024-01-01",
        "effective_to": "2024-12-31",
        "legal_basis": "Nghị quyết số 01/2024/NQ-HĐND (mẫu/sample)",
    }
    body.update(overrides)
    return body


class TestListRates:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get(URL), 401)

    @pytest.mark.parametrize(
        "role", [Role.CASE_WORKER, Role.SUPERVISOR, Role.ANALYST, Role.SYSTEM_ADMIN]
    )
    async def test_readers(self, world: World, engine: AsyncEngine, role: Role) -> None:
        await add_rate(world, "essential_needs", 60_000)
        actor = await world.user(role)
        mark = await last_event_id(engine)
        response = await world.client.get(URL, headers=actor.headers)
        assert response.status_code == 200, response.text
        (item,) = response.json()["items"]
        assert (item["amount_vnd"], item["province_code"], item["unit"]) == (60_000, "40", "day")
        events = await events_after(engine, mark)
        assert [(e["action"], e["outcome"]) for e in events] == [("support_rate.list", "success")]

    @pytest.mark.parametrize("role", [Role.AUDITOR, Role.HOTLINE_OPERATOR, Role.AGENCY_ADMIN])
    async def test_other_roles_403(self, world: World, engine: AsyncEngine, role: Role) -> None:
        actor = await world.user(role)
        mark = await last_event_id(engine)
        assert_problem(await world.client.get(URL, headers=actor.headers), 403)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("access.denied", "denied")

    async def test_filters(self, world: World) -> None:
        await add_rate(world, "essential_needs", 40_000, effective_to=date(2023, 12, 31))
        await add_rate(world, "essential_needs", 60_000, effective_from=date(2024, 1, 1))
        await add_rate(world, "travel", 100_000, province_code="37")
        await add_rate(world, "travel", 90_000, province_code=None)
        worker = await world.user(Role.CASE_WORKER)

        async def amounts(**params: str) -> list[int]:
            response = await world.client.get(URL, params=params, headers=worker.headers)
            assert response.status_code == 200, response.text
            return sorted(i["amount_vnd"] for i in response.json()["items"])

        assert await amounts(province_code="40") == [40_000, 60_000]
        assert await amounts(type="travel") == [90_000, 100_000]
        assert await amounts(province_code="40", on="2023-06-01") == [40_000]
        assert await amounts(type="essential_needs", on="2024-06-01") == [60_000]
        response = await world.client.get(URL, params={"type": "nope"}, headers=worker.headers)
        assert_problem(response, 422)


class TestCreateRate:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.post(URL, json=rate_body()), 401)

    async def test_system_admin_creates(self, world: World, engine: AsyncEngine) -> None:
        admin = await sysadmin(world)
        mark = await last_event_id(engine)
        response = await world.client.post(URL, json=rate_body(), headers=admin.headers)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["amount_vnd"] == 60_000
        assert body["legal_basis"].startswith("Nghị quyết")
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["resource_id"]) == ("support_rate.create", body["id"])
        assert "legal_basis" in event["fields"]

    @pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CASE_WORKER, Role.ANALYST])
    async def test_others_403(self, world: World, engine: AsyncEngine, role: Role) -> None:
        actor = await world.user(role)
        mark = await last_event_id(engine)
        assert_problem(await world.client.post(URL, json=rate_body(), headers=actor.headers), 403)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["reason"]) == (
            "access.denied",
            "missing_permission:support_rates:manage",
        )

    @pytest.mark.parametrize(
        "overrides",
        [
            {"effective_to": "2023-01-01"},
            {"amount_vnd": 0},
            {"legal_basis": ""},
            {"unit": "fortnight"},
            {"unit": "session"},  # essential needs the 120-day cap cannot count
            {"type": "housing"},
            {"province_code": "99"},
            {"surprise": 1},
        ],
    )
    async def test_invalid_422(self, world: World, overrides: dict[str, Any]) -> None:
        admin = await sysadmin(world)
        response = await world.client.post(URL, json=rate_body(**overrides), headers=admin.headers)
        assert_problem(response, 422)

    @pytest.mark.parametrize(
        ("effective_from", "effective_to"),
        [("2024-12-31", None), ("2023-01-01", "2024-01-01"), ("2024-03-01", "2024-04-01")],
    )
    async def test_overlap_409(
        self, world: World, effective_from: str, effective_to: str | None
    ) -> None:
        admin = await sysadmin(world)
        first = await world.client.post(URL, json=rate_body(), headers=admin.headers)
        assert first.status_code == 201
        second = rate_body(effective_from=effective_from, effective_to=effective_to)
        assert_problem(await world.client.post(URL, json=second, headers=admin.headers), 409)

    async def test_open_ended_rate_blocks_later_ones(self, world: World) -> None:
        admin = await sysadmin(world)
        open_ended = rate_body(effective_to=None)
        assert (await world.client.post(URL, json=open_ended, headers=admin.headers)).is_success
        later = rate_body(effective_from="2030-01-01", effective_to=None)
        assert_problem(await world.client.post(URL, json=later, headers=admin.headers), 409)

    async def test_other_keys_do_not_overlap(self, world: World) -> None:
        admin = await sysadmin(world)
        for body in (
            rate_body(),
            rate_body(province_code=None),  # national
            rate_body(province_code="37"),
            rate_body(unit="month", amount_vnd=1_800_000),
            rate_body(type="travel"),
            rate_body(effective_from="2025-01-01", effective_to=None),  # the next period
        ):
            response = await world.client.post(URL, json=body, headers=admin.headers)
            assert response.status_code == 201, (body, response.text)


class TestEndRate:
    async def test_ending_makes_room_for_the_next_rate(self, world: World) -> None:
        admin = await sysadmin(world)
        first = await world.client.post(
            URL, json=rate_body(effective_to=None), headers=admin.headers
        )
        later = rate_body(effective_from="2026-01-01", effective_to=None, amount_vnd=70_000)
        assert_problem(await world.client.post(URL, json=later, headers=admin.headers), 409)
        ended = await world.client.post(
            f"{URL}/{first.json()['id']}/end",
            json={"effective_to": "2025-12-31"},
            headers=admin.headers,
        )
        assert ended.status_code == 200 and ended.json()["effective_to"] == "2025-12-31"
        assert (await world.client.post(URL, json=later, headers=admin.headers)).status_code == 201

    async def test_never_extended_nor_before_start(self, world: World) -> None:
        admin = await sysadmin(world)
        rate = (await world.client.post(URL, json=rate_body(), headers=admin.headers)).json()
        url = f"{URL}/{rate['id']}/end"
        longer = {"effective_to": "2025-06-30"}
        assert_problem(await world.client.post(url, json=longer, headers=admin.headers), 409)
        before = {"effective_to": "2023-12-31"}
        assert_problem(await world.client.post(url, json=before, headers=admin.headers), 422)
        missing = f"{URL}/00000000-0000-0000-0000-000000000000/end"
        shorter = {"effective_to": "2024-06-30"}
        assert_problem(await world.client.post(missing, json=shorter, headers=admin.headers), 404)

    async def test_only_system_admin(self, world: World) -> None:
        admin = await sysadmin(world)
        rate = (await world.client.post(URL, json=rate_body(), headers=admin.headers)).json()
        supervisor = await world.user(Role.SUPERVISOR)
        response = await world.client.post(
            f"{URL}/{rate['id']}/end",
            json={"effective_to": "2024-06-30"},
            headers=supervisor.headers,
        )
        assert_problem(response, 403)


class TestRateInForce:
    async def test_province_preferred_then_national(
        self, world: World, session: AsyncSession
    ) -> None:
        await add_rate(world, "travel", 90_000, province_code=None)
        await add_rate(world, "travel", 100_000, effective_from=date(2024, 1, 1))
        on_2024 = await rate_in_force(session, "40", "travel", date(2024, 5, 1))
        assert on_2024 is not None and on_2024.amount_vnd == 100_000
        before = await rate_in_force(session, "40", "travel", date(2023, 5, 1))
        assert before is not None and before.amount_vnd == 90_000
        elsewhere = await rate_in_force(session, "37", "travel", date(2024, 5, 1))
        assert elsewhere is not None and elsewhere.amount_vnd == 90_000
        assert await rate_in_force(session, "40", "medical", date(2024, 5, 1)) is None
        assert await rate_in_force(session, "40", "travel", date(2024, 5, 1), unit="trip") is None

    async def test_bounds_are_inclusive(self, world: World, session: AsyncSession) -> None:
        await add_rate(
            world,
            "essential_needs",
            360_000,
            unit="month",
            province_code=None,
            effective_from=date(2021, 7, 1),
            effective_to=date(2024, 6, 30),
        )
        await add_rate(
            world,
            "essential_needs",
            500_000,
            unit="month",
            province_code=None,
            effective_from=date(2024, 7, 1),
        )
        for day, amount in (
            (date(2021, 7, 1), 360_000),
            (date(2024, 6, 30), 360_000),
            (date(2024, 7, 1), 500_000),
        ):
            rate = await rate_in_force(session, "40", "essential_needs", day)
            assert rate is not None and rate.amount_vnd == amount
        assert await rate_in_force(session, "40", "essential_needs", date(2021, 6, 30)) is None


class TestDemoRates:
    async def test_seeded_once_and_looked_up(self, session: AsyncSession) -> None:
        assert await seed_demo_rates(session) == len(DEMO_RATES)
        await session.commit()
        assert await seed_demo_rates(session) == 0
        await session.commit()
        national = await rate_in_force(session, "37", "essential_needs", date(2024, 7, 1))
        assert national is not None and national.amount_vnd == 500_000
        assert national.legal_basis == "Nghị định 76/2024/NĐ-CP"
        before = await rate_in_force(session, "37", "essential_needs", date(2024, 6, 30))
        assert before is not None and before.amount_vnd == 360_000
        food = await rate_in_force(session, "40", "essential_needs", date(2025, 1, 1), unit="day")
        assert food is not None and food.amount_vnd == 60_000
        assert "sample" in food.legal_basis


class TestConcurrentCreate:
    async def test_two_overlapping_rates_at_once_one_wins(self, world: World) -> None:
        admin = await sysadmin(world)
        responses = await asyncio.gather(
            world.client.post(URL, json=rate_body(), headers=admin.headers),
            world.client.post(URL, json=rate_body(amount_vnd=70_000), headers=admin.headers),
        )
        assert sorted(r.status_code for r in responses) == [201, 409]
