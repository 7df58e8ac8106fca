"""A support participant records and delivers the services its referral names, priced
by the rates of the province where it delivers them; what it may not deliver is 403
naming the function or the referral it lacks; it sees only its own services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.models.support import SupportService
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem
from tests.participants.helpers import participation
from tests.support.helpers import add_rate

NINH_BINH = "37"


def service(type_: str = "medical", **extra: Any) -> dict[str, Any]:
    return {"type": type_, "quantity": 2, "unit": "session", "service_date": "2026-03-02", **extra}


def url(p: Any, tail: str = "") -> str:
    return f"/api/v1/cases/{p.case['id']}/support-services" + tail


async def _identified(world: World, p: Any) -> None:
    from sqlalchemy import update

    from app.models import Case

    await world.session.execute(
        update(Case).where(Case.id == p.case["id"]).values(status="identified")  # type: ignore[arg-type]
    )
    await world.session.commit()


async def test_health_facility_records_and_delivers_at_its_provinces_rate(
    world: World, engine: AsyncEngine
) -> None:
    await add_rate(world, "medical", 100_000, unit="session", province_code="40")
    await add_rate(world, "medical", 150_000, unit="session", province_code=NINH_BINH)
    p = await participation(
        world, kind="health", purpose="support", services=["medical", "loan"], province=NINH_BINH
    )
    await _identified(world, p)
    mark = await last_event_id(engine)
    made = await world.client.post(url(p), json=service(), headers=p.participant.headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["status"], body["amount_vnd"]) == ("approved", 300_000)
    assert body["provider_agency_id"] == str(p.participant.agency.id)
    row = await world.session.get(SupportService, body["id"])
    assert row is not None
    assert (row.province_code, str(row.referral_id)) == (NINH_BINH, p.referral["id"])
    (event,) = await events_after(engine, mark)
    assert (event["action"], event["outcome"]) == ("support_service.create", "success")
    # Another of the facility's staff than the one who recorded it (four eyes).
    colleague = await world.user(Role.CASE_WORKER, p.participant.agency)
    delivered = await world.client.post(url(p, f"/{body['id']}/deliver"), headers=colleague.headers)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "delivered"
    # The lead sees it among the case's services.
    lead = await world.client.get(url(p), headers=p.lead.headers)
    assert [s["id"] for s in lead.json()["items"]] == [body["id"]]


async def test_what_the_referral_does_not_name_or_the_kind_cannot_give_is_403(
    world: World, engine: AsyncEngine
) -> None:
    p = await participation(world, kind="health", purpose="support", services=["medical", "loan"])
    await _identified(world, p)
    await add_rate(world, "loan", 1_000_000, unit="lump_sum")
    await add_rate(world, "psychological", 100_000, unit="session")
    loan = await world.client.post(
        url(p), json=service("loan", unit="lump_sum", quantity=1), headers=p.participant.headers
    )
    problem = assert_problem(loan, 403)
    assert str(problem["type"]).endswith("agency-function-required")
    assert "loans" in str(problem["detail"])
    mark = await last_event_id(engine)
    other = await world.client.post(
        url(p), json=service("psychological"), headers=p.participant.headers
    )
    assert str(assert_problem(other, 403)["type"]).endswith("case-role-required")
    (event,) = await events_after(engine, mark)
    assert event["reason"] == "service_not_referred"


async def test_a_participant_sets_no_amount_and_approves_nothing(world: World) -> None:
    p = await participation(world, kind="health", purpose="support", services=["medical"])
    await _identified(world, p)
    await add_rate(world, "medical", 100_000, unit="session")
    overridden = await world.client.post(
        url(p),
        json=service(amount_vnd=9_000_000, override_reason="tăng"),
        headers=p.participant.headers,
    )
    assert_problem(overridden, 403)
    made = await world.client.post(url(p), json=service(), headers=p.lead.headers)
    assert made.status_code == 201, made.text
    approve = await world.client.post(
        url(p, f"/{made.json()['id']}/approve"), headers=p.participant.headers
    )
    assert_problem(approve, 403)


async def test_a_participant_sees_and_delivers_only_its_own_services(world: World) -> None:
    p = await participation(world, kind="health", purpose="support", services=["medical"])
    await _identified(world, p)
    await add_rate(world, "medical", 100_000, unit="session")
    leads = await world.client.post(url(p), json=service(), headers=p.lead.headers)
    assert leads.status_code == 201, leads.text
    listed = await world.client.get(url(p), headers=p.participant.headers)
    assert listed.status_code == 200 and listed.json()["items"] == []
    deliver = await world.client.post(
        url(p, f"/{leads.json()['id']}/deliver"), headers=p.participant.headers
    )
    assert_problem(deliver, 404)
