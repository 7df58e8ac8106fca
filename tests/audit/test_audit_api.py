"""Reading the trail: the auditors' list and its filters, verify, checkpoints, and the
access-log service the cases module will call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app import audit
from app.audit import service
from app.errors import DeniedForbidden
from app.security.permissions import Role
from app.security.principal import Principal
from app.services.pagination import PageParams
from tests.audit.helpers import events_after, last_event_id, seal_now, tamper
from tests.conftest import Actor, World, assert_problem


@pytest.fixture
async def auditor(world: World) -> Actor:
    return await world.user(Role.AUDITOR, await world.agency("national"))


async def test_list_newest_first_with_chain_fields(world: World, auditor: Actor) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    await world.client.get(f"/api/v1/users/{admin.id}", headers=admin.headers)
    await world.client.get("/api/v1/audit-events/verify", headers=auditor.headers)  # seals
    response = await world.client.get("/api/v1/audit-events", headers=auditor.headers)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["action"] for i in items] == [
        "audit_chain.verify",
        "user.read",
        "auth.login",
        "auth.login",
    ]
    assert items[0]["seq"] is None and items[0]["hash"] is None  # not sealed yet
    sealed = items[1:]
    assert [i["seq"] for i in sealed] == [3, 2, 1]
    assert sealed[0]["prev_hash"] == sealed[1]["hash"]
    assert sealed[-1]["prev_hash"] == "0" * 64
    assert set(items[1]) >= {"actor_id", "actor_agency_id", "actor_role", "purpose", "fields"}


async def test_filters(world: World, auditor: Actor, engine: AsyncEngine) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    other = await world.user(Role.CASE_WORKER)
    await world.client.get(f"/api/v1/users/{admin.id}", headers=admin.headers)
    await world.client.get("/api/v1/agencies", headers=other.headers)

    async def actions(**params: str) -> list[str]:
        response = await world.client.get(
            "/api/v1/audit-events", params=params, headers=auditor.headers
        )
        assert response.status_code == 200, response.text
        return [i["action"] for i in response.json()["items"] if i["action"] != "audit_event.list"]

    assert await actions(actor_id=str(other.id)) == ["agency.list", "auth.login"]
    assert await actions(agency_id=str(admin.agency.id)) == ["user.read", "auth.login"]
    assert await actions(resource_type="user", resource_id=str(admin.id)) == [
        "user.read",
        "auth.login",
    ]
    assert await actions(action="auth.login") == ["auth.login"] * 3
    now = datetime.now(UTC)
    assert await actions(to=(now - timedelta(hours=1)).isoformat()) == []
    assert len(await actions(**{"from": (now - timedelta(hours=1)).isoformat()})) == 5
    bad = await world.client.get(
        "/api/v1/audit-events", params={"action": "Drop Table"}, headers=auditor.headers
    )
    assert_problem(bad, 422)


async def test_pagination(world: World, auditor: Actor) -> None:
    for _ in range(4):
        await world.client.get("/api/v1/auth/me", headers=auditor.headers)
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await world.client.get(
            "/api/v1/audit-events", params=params, headers=auditor.headers
        )
        assert page.status_code == 200
        body = page.json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # 1 login + 4 reads + each page's own list event (recorded after the page is read).
    assert seen == sorted(set(seen), reverse=True)
    assert len(seen) >= 5
    bad = await world.client.get(
        "/api/v1/audit-events", params={"cursor": "nonsense"}, headers=auditor.headers
    )
    assert_problem(bad, 422)
    too_many = await world.client.get(
        "/api/v1/audit-events", params={"limit": "101"}, headers=auditor.headers
    )
    assert_problem(too_many, 422)


async def test_verify_endpoint_reports_tampering(
    world: World, auditor: Actor, engine: AsyncEngine
) -> None:
    for _ in range(3):
        await world.client.get("/api/v1/auth/me", headers=auditor.headers)
    sound = await world.client.get("/api/v1/audit-events/verify", headers=auditor.headers)
    assert sound.status_code == 200
    body = sound.json()
    assert (body["ok"], body["checked"], body["first_bad_seq"]) == (True, 4, None)
    assert len(body["head_hash"]) == 64
    await tamper(
        engine,
        "DELETE FROM audit_events "
        "WHERE id = (SELECT event_id FROM audit_seals WHERE chain_seq = 2)",
    )
    broken = (await world.client.get("/api/v1/audit-events/verify", headers=auditor.headers)).json()
    assert (broken["ok"], broken["first_bad_seq"], broken["checked"]) == (False, 2, 1)
    (event,) = [e for e in await events_after(engine, 0) if e["action"] == "audit_chain.verify"][
        -1:
    ]
    assert (event["reason"], event["resource_id"]) == ("chain_broken", "2")
    quick = await world.client.get(
        "/api/v1/audit-events/verify", params={"from_checkpoint": "true"}, headers=auditor.headers
    )
    assert quick.json()["ok"] is False  # no checkpoint yet: from the start


async def test_checkpoints_endpoint(app: FastAPI, world: World, auditor: Actor) -> None:
    await seal_now(app, checkpoint=True)
    response = await world.client.get("/api/v1/audit-events/checkpoints", headers=auditor.headers)
    assert response.status_code == 200
    (checkpoint,) = response.json()["items"]
    assert checkpoint["chain_seq"] == 1 and checkpoint["type"] == "vcm-audit-checkpoint/1"
    assert checkpoint["key_id"] == app.state.keys.audit_signing_key().kid


def _principal(actor: Actor) -> Principal:
    return Principal(
        actor_id=actor.id,
        role=Role(actor.user.role),
        agency_id=actor.agency.id,
        agency_kind=actor.agency.kind,
        province_code=actor.agency.province_code,
    )


async def test_access_log_for_the_cases_module(
    app: FastAPI, world: World, engine: AsyncEngine
) -> None:
    supervisor = await world.user(Role.SUPERVISOR, login=False)
    worker = await world.user(Role.CASE_WORKER, supervisor.agency, login=False)
    case_id = uuid.uuid4()
    async with app.state.sessionmaker() as session:
        await audit.record(
            session,
            action="case.read",
            resource_type="case",
            resource_id=case_id,
            principal=_principal(worker),
            fields=["victim.full_name"],
            purpose="support_delivery",
        )
        await audit.record(session, action="case.read", resource_type="case", resource_id="other")
        await session.commit()
    mark = await last_event_id(engine)
    async with app.state.sessionmaker() as session:
        items, cursor = await service.access_log(
            session, _principal(supervisor), "case", case_id, PageParams(limit=20, cursor=None)
        )
        await session.commit()
    assert cursor is None
    assert [(i["action"], i["actor_id"], i["fields"]) for i in items] == [
        ("case.read", worker.id, ["victim.full_name"])
    ]
    async with app.state.sessionmaker() as session:
        with pytest.raises(DeniedForbidden):
            await service.access_log(
                session, _principal(worker), "case", case_id, PageParams(limit=20, cursor=None)
            )
        await session.commit()  # what `keep_work` does in a request
    recorded = [(e["action"], e["outcome"]) for e in await events_after(engine, mark)]
    assert recorded == [("case.access_log", "success"), ("case.access_log", "denied")]
