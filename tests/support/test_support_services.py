"""POST|GET /api/v1/cases/{id}/support-services: entitlement, cap, amount, audit."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import CaseTimelineEntry
from app.models.support import SupportService
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem, fake
from tests.support.factories import make_case
from tests.support.helpers import LEAD_KIND, add_rate, team

# The assertions read the English messages (Vietnamese is the default).
pytestmark = pytest.mark.usefixtures("english")


def url(case_id: uuid.UUID) -> str:
    return f"/api/v1/cases/{case_id}/support-services"


def service_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "essential_needs",
        "quantity": 10,
        "unit": "day",
        "service_date": "2026-03-02",
    }
    body.update(overrides)
    return body


class TestCreateService:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.post(url(uuid.uuid4()), json=service_body()), 401)

    async def test_other_agency_404_with_denied_audit(
        self, world: World, engine: AsyncEngine
    ) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        stranger = await world.user(Role.CASE_WORKER)
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case.id), json=service_body(), headers=stranger.headers
        )
        assert_problem(response, 404)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"], event["reason"]) == (
            "support_service.create",
            "denied",
            "out_of_reach",
        )
        assert event["resource_id"] == str(case.id)

    async def test_happy_path_amount_from_rate(
        self, world: World, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        rate = await add_rate(world, "essential_needs", 60_000)
        provider = await world.agency("social_affairs", "40")
        mark = await last_event_id(engine)
        response = await world.client.post(
            url(case.id),
            json=service_body(provider_agency_id=str(provider.id)),
            headers=worker.headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "requested"
        assert body["amount_vnd"] == 600_000
        assert body["rate_id"] == str(rate.id)
        assert body["person_id"] == str(case.victim_id)
        assert body["amount_overridden"] is False
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["resource_id"], event["person_id"]) == (
            "support_service.create",
            body["id"],
            case.victim_id,
        )
        entry = (
            await session.execute(
                select(CaseTimelineEntry).where(CaseTimelineEntry.case_id == case.id)  # type: ignore[arg-type]
            )
        ).scalar_one()
        assert (entry.kind, str(entry.ref_id), entry.detail) == (
            "support_requested",
            body["id"],
            "essential_needs",
        )

    async def test_amount_uses_the_rate_on_the_service_date(self, world: World) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        await add_rate(world, "travel", 70_000, effective_to=date(2025, 12, 31))
        await add_rate(world, "travel", 100_000, effective_from=date(2026, 1, 1))
        amounts = []
        for day in ("2025-12-30", "2026-01-02"):
            response = await world.client.post(
                url(case.id),
                json=service_body(type="travel", quantity=2, service_date=day),
                headers=worker.headers,
            )
            assert response.status_code == 201, response.text
            amounts.append(response.json()["amount_vnd"])
        assert amounts == [140_000, 200_000]

    async def test_national_rate_when_province_has_none(self, world: World) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        await add_rate(world, "essential_needs", 500_000, unit="month", province_code=None)
        await add_rate(world, "essential_needs", 60_000, province_code="37")
        response = await world.client.post(
            url(case.id), json=service_body(unit="month", quantity=2), headers=worker.headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["amount_vnd"] == 1_000_000

    async def test_no_rate_422(self, world: World) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        await add_rate(world, "essential_needs", 60_000, province_code="37")
        response = await world.client.post(
            url(case.id), json=service_body(), headers=worker.headers
        )
        problem = assert_problem(response, 422)
        assert "no rate" in str(problem["detail"])

    async def test_max_units_422(self, world: World) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        await add_rate(world, "travel", 100_000, unit="trip", max_units=2)
        body = service_body(type="travel", unit="trip", quantity=3)
        assert_problem(
            await world.client.post(url(case.id), json=body, headers=worker.headers), 422
        )

    async def test_supervisor_override_without_rate(self, world: World) -> None:
        _, supervisor = await team(world)
        case = await make_case(world, supervisor)
        body = service_body(
            type="medical",
            unit="lump_sum",
            quantity=1,
            amount_vnd=2_500_000,
            override_reason="Hoá đơn bệnh viện tuyến tỉnh",
        )
        response = await world.client.post(url(case.id), json=body, headers=supervisor.headers)
        assert response.status_code == 201, response.text
        assert (response.json()["amount_vnd"], response.json()["amount_overridden"]) == (
            2_500_000,
            True,
        )
        assert response.json()["rate_id"] is None

    async def test_override_needs_a_reason(self, world: World) -> None:
        _, supervisor = await team(world)
        case = await make_case(world, supervisor)
        body = service_body(amount_vnd=1)
        response = await world.client.post(url(case.id), json=body, headers=supervisor.headers)
        assert_problem(response, 422)

    async def test_case_worker_override_403(self, world: World, engine: AsyncEngine) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        body = service_body(amount_vnd=1_000, override_reason="Giá thực tế")
        mark = await last_event_id(engine)
        response = await world.client.post(url(case.id), json=body, headers=worker.headers)
        assert_problem(response, 403)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["outcome"]) == ("support_service.create", "denied")

    async def test_override_reason_is_encrypted(self, world: World, session: AsyncSession) -> None:
        _, supervisor = await team(world)
        case = await make_case(world, supervisor)
        reason = f"Chi phí thực tế cho {fake.name()}"
        body = service_body(amount_vnd=700_000, override_reason=reason)
        response = await world.client.post(url(case.id), json=body, headers=supervisor.headers)
        assert response.status_code == 201, response.text
        assert reason not in response.text
        row = await session.get(SupportService, uuid.UUID(response.json()["id"]))
        assert row is not None and row.override_reason is not None
        assert reason.encode() not in row.override_reason

    @pytest.mark.parametrize(
        ("situation", "support"),
        [
            ({"status": "verifying", "currently_abroad": True}, "loan"),
            ({"status": "verifying", "currently_abroad": True}, "travel"),
            ({"status": "received"}, "vocational"),
            ({"status": "identified", "nationality": "LA"}, "travel"),
            ({"status": "not_identified"}, "medical"),
            ({"status": "closed"}, "essential_needs"),
        ],
    )
    async def test_not_entitled_422_with_reason(
        self, world: World, situation: dict[str, Any], support: str
    ) -> None:
        worker, _ = await team(world, LEAD_KIND.get(support, "social_affairs"))
        case = await make_case(world, worker, **situation)
        await add_rate(world, support, 100_000)
        body = service_body(type=support)
        problem = assert_problem(
            await world.client.post(url(case.id), json=body, headers=worker.headers), 422
        )
        detail = str(problem["detail"])
        assert "support" in detail and (support in detail or "status" in detail)

    @pytest.mark.parametrize(
        ("situation", "support"),
        [
            ({"status": "verifying", "currently_abroad": True}, "legal_support"),
            ({"status": "verifying"}, "psychological"),
            ({"status": "identified", "nationality": "LA"}, "legal_aid"),
            ({"status": "supporting", "nationality": "XX"}, "loan"),
            ({"status": "identified", "nationality": None}, "initial_allowance"),
        ],
    )
    async def test_entitled(self, world: World, situation: dict[str, Any], support: str) -> None:
        worker, _ = await team(world, LEAD_KIND.get(support, "social_affairs"))
        case = await make_case(world, worker, **situation)
        await add_rate(world, support, 100_000)
        body = service_body(type=support, quantity=1)
        response = await world.client.post(url(case.id), json=body, headers=worker.headers)
        assert response.status_code == 201, response.text

    async def test_minor_entitlements(self, world: World) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker, minors=1, relatives=1)
        (minor,) = case.minor_ids
        for support in ("schooling", "vocational", "initial_allowance"):
            await add_rate(world, support, 100_000)

        async def ask(support: str, person: uuid.UUID) -> int:
            body = service_body(type=support, quantity=1, person_id=str(person))
            return (
                await world.client.post(url(case.id), json=body, headers=worker.headers)
            ).status_code

        assert await ask("schooling", minor) == 201
        assert await ask("vocational", minor) == 422
        assert await ask("initial_allowance", minor) == 422
        assert await ask("vocational", case.victim_id) == 201
        assert await ask("schooling", case.relative_ids[0]) == 422
        assert await ask("schooling", uuid.uuid4()) == 422  # not a person of the case

    async def test_120_day_cap_and_supervisor_extension(self, world: World) -> None:
        worker, supervisor = await team(world)
        case = await make_case(world, worker, minors=1)
        await add_rate(world, "essential_needs", 60_000)
        await add_rate(world, "essential_needs", 1_800_000, unit="month")

        async def ask(actor: Any, **overrides: Any) -> Any:
            return await world.client.post(
                url(case.id), json=service_body(**overrides), headers=actor.headers
            )

        assert (await ask(worker, quantity=100)).status_code == 201
        first_month = await ask(worker, unit="month", quantity=1)  # 30 days: 130 > 120
        problem = assert_problem(first_month, 422)
        assert "120 days" in str(problem["detail"])
        assert (await ask(worker, quantity=20)).status_code == 201  # exactly 120
        assert_problem(await ask(worker, quantity=1), 422)
        # The minor has a cap of their own.
        assert (await ask(worker, quantity=1, person_id=str(case.minor_ids[0]))).status_code == 201
        reason = "Gia hạn theo đề nghị của cơ sở trợ giúp xã hội"
        assert_problem(await ask(worker, quantity=10, extension_reason=reason), 403)
        extended = await ask(supervisor, quantity=10, extension_reason=reason)
        assert extended.status_code == 201, extended.text
        assert extended.json()["cap_extended"] is True

    async def test_cancelled_days_no_longer_count(self, world: World) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        await add_rate(world, "essential_needs", 60_000)
        first = await world.client.post(
            url(case.id), json=service_body(quantity=120), headers=worker.headers
        )
        assert first.status_code == 201
        cancel = await world.client.post(
            f"{url(case.id)}/{first.json()['id']}/cancel", headers=worker.headers
        )
        assert cancel.status_code == 200, cancel.text
        again = await world.client.post(
            url(case.id), json=service_body(quantity=120), headers=worker.headers
        )
        assert again.status_code == 201, again.text

    @pytest.mark.parametrize(
        "overrides",
        [{"type": "housing"}, {"quantity": 0}, {"unit": "fortnight"}, {"service_date": "soon"}],
    )
    async def test_invalid_body_422(self, world: World, overrides: dict[str, Any]) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        body = service_body(**overrides)
        assert_problem(
            await world.client.post(url(case.id), json=body, headers=worker.headers), 422
        )

    async def test_unknown_provider_422(self, world: World) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        await add_rate(world, "essential_needs", 60_000)
        body = service_body(provider_agency_id=str(uuid.uuid4()))
        assert_problem(
            await world.client.post(url(case.id), json=body, headers=worker.headers), 422
        )


class TestListServices:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get(url(uuid.uuid4())), 401)

    async def test_other_agency_404(self, world: World, engine: AsyncEngine) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        stranger = await world.user(Role.SUPERVISOR)
        mark = await last_event_id(engine)
        assert_problem(await world.client.get(url(case.id), headers=stranger.headers), 404)
        (event,) = await events_after(engine, mark)
        assert (event["action"], event["reason"]) == ("support_service.list", "out_of_reach")

    async def test_lists_the_case_services(self, world: World, engine: AsyncEngine) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        other = await make_case(world, worker)
        await add_rate(world, "essential_needs", 60_000)
        for target, quantity in ((case, 5), (case, 6), (other, 7)):
            created = await world.client.post(
                url(target.id), json=service_body(quantity=quantity), headers=worker.headers
            )
            assert created.status_code == 201
        mark = await last_event_id(engine)
        response = await world.client.get(url(case.id), params={"limit": 1}, headers=worker.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert [s["quantity"] for s in page["items"]] == [6]
        assert page["next_cursor"]
        second = await world.client.get(
            url(case.id), params={"cursor": page["next_cursor"]}, headers=worker.headers
        )
        assert [s["quantity"] for s in second.json()["items"]] == [5]
        events = await events_after(engine, mark)
        assert [(e["action"], e["resource_id"]) for e in events] == [
            ("support_service.list", str(case.id)),
            ("support_service.list", str(case.id)),
        ]

    async def test_analyst_gets_404(self, world: World) -> None:
        worker, _ = await team(world)
        case = await make_case(world, worker)
        analyst = await world.user(Role.ANALYST, worker.agency)
        assert_problem(await world.client.get(url(case.id), headers=analyst.headers), 404)
