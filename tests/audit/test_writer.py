"""The writer: same transaction as the work, 503 and nothing kept when it fails, and
never a personal value in an audit row."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import audit
from app.models import AuthSession, User
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.conftest import World, assert_problem, fake


@pytest.fixture
async def failing_audit(engine: AsyncEngine) -> AsyncIterator[None]:
    """Make the audit insert fail for user creation and login (the store is 'down')."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION test_audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF NEW.action IN ('user.create', 'auth.login') THEN "
                "RAISE EXCEPTION 'audit store down'; END IF; RETURN NEW; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_events "
                "FOR EACH ROW EXECUTE FUNCTION test_audit_down()"
            )
        )
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER test_audit_down ON audit_events"))
            await conn.execute(text("DROP FUNCTION test_audit_down()"))


async def test_failed_audit_insert_fails_the_request_and_keeps_no_work(
    app: FastAPI, world: World, engine: AsyncEngine, failing_audit: None
) -> None:
    admin = await world.user(Role.AGENCY_ADMIN, login=False)
    headers = await _login_without_audit(app, world, admin.user)
    response = await world.client.post(
        "/api/v1/users",
        json={
            "username": "new.worker",
            "password": "a-Long-and-unusual-passphrase-71",
            "full_name": fake.name(),
            "role": "case_worker",
        },
        headers={**headers, "Idempotency-Key": "k-1"},
    )
    assert_problem(response, 503)
    async with engine.connect() as conn:
        users = await conn.execute(text("SELECT count(*) FROM users WHERE username = 'new.worker'"))
        keys = await conn.execute(text("SELECT count(*) FROM idempotency_keys"))
        assert (users.scalar_one(), keys.scalar_one()) == (0, 0)


async def test_failed_audit_insert_on_a_failed_login_keeps_no_failure_count(
    world: World, engine: AsyncEngine, failing_audit: None
) -> None:
    """A failed login is work that commits (`keep_work`); without its audit row it must not."""
    actor = await world.user(Role.CASE_WORKER, login=False)
    response = await world.token(actor.user.username, "wrong-password")
    assert_problem(response, 503)
    async with engine.connect() as conn:
        failures = await conn.execute(text("SELECT count(*) FROM login_failures"))
        sessions = await conn.execute(text("SELECT count(*) FROM auth_sessions"))
        assert (failures.scalar_one(), sessions.scalar_one()) == (0, 0)


async def _login_without_audit(app: FastAPI, world: World, user: User) -> dict[str, str]:
    """A token minted directly: logging in is audited, and the audit store is 'down'."""
    auth_session = AuthSession(user_id=user.id)
    world.session.add(auth_session)
    await world.session.commit()
    token = app.state.tokens.issue_access_token(
        user_id=user.id, session_id=auth_session.id, role=user.role, agency_id=user.agency_id
    )
    return {"Authorization": f"Bearer {token.token}"}


async def test_writer_refuses_free_text(app: FastAPI, clean_db: None) -> None:
    async with app.state.sessionmaker() as session:
        for bad in (
            {"action": "Nguyễn Văn A read", "resource_type": "user"},
            {"action": "user.read", "resource_type": "user", "reason": "name was Nguyễn Văn A"},
            {"action": "user.read", "resource_type": "user", "fields": ["full name: A"]},
            {"action": "user.read", "resource_type": "user", "purpose": "curiosity"},
        ):
            with pytest.raises(ValueError):
                await audit.record(session, **bad)  # type: ignore[arg-type]


async def test_event_carries_request_metadata(world: World, engine: AsyncEngine) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    mark = await last_event_id(engine)
    response = await world.client.get(
        f"/api/v1/users/{admin.id}",
        headers={**admin.headers, "X-Request-Id": "req-12345678", "X-Forwarded-For": "10.1.2.3"},
    )
    assert response.status_code == 200
    (event,) = await events_after(engine, mark)
    assert event["actor_id"] == admin.id
    assert event["actor_agency_id"] == admin.agency.id
    assert event["actor_role"] == "agency_admin"
    assert event["actor_type"] == "user"
    assert event["token_id"]
    assert event["request_id"] == "req-12345678"
    assert event["client_address"] == "10.1.2.3"
    assert event["resource_id"] == str(admin.id)
    assert event["occurred_at"].utcoffset().total_seconds() == 0


async def test_emergency_purpose_is_flagged(
    app: FastAPI, engine: AsyncEngine, clean_db: None
) -> None:
    async with app.state.sessionmaker() as session:
        await audit.record(
            session, action="person.reveal", resource_type="person", purpose="emergency"
        )
        await audit.record(
            session, action="person.reveal", resource_type="person", purpose="protection"
        )
        await session.commit()
    flags = [(e["purpose"], e["emergency"]) for e in await events_after(engine, 0)]
    assert flags == [("emergency", True), ("protection", False)]


async def test_no_personal_value_in_any_audit_row(world: World, engine: AsyncEngine) -> None:
    """Names, usernames and passwords pass through the audited routes; none may land in
    the trail (only ids and field names)."""
    admin = await world.user(Role.AGENCY_ADMIN)
    name, new_name = fake.name(), fake.name()
    username, password = "tran.thi.mai", "Mai-secret-passphrase-2026"
    created = await world.client.post(
        "/api/v1/users",
        json={"username": username, "password": password, "full_name": name, "role": "case_worker"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    await world.client.get(f"/api/v1/users/{user_id}", headers=admin.headers)
    patched = await world.client.patch(
        f"/api/v1/users/{user_id}",
        json={"full_name": new_name, "password": password + "-new"},
        headers={**admin.headers, "If-Match": created.headers.get("ETag", '"1"')},
    )
    assert patched.status_code == 200, patched.text
    await world.token(username, "wrong " + password)
    await world.token("no.such." + username, password)
    await world.token(username, password + "-new")
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM audit_events"))).mappings().all()
    assert len(rows) >= 7
    dump = "\n".join(repr(dict(r)) for r in rows).lower()
    for value in (name, new_name, username, password, "mai-secret"):
        assert value.lower() not in dump, "a personal value reached the audit trail"
    fields = {tuple(r["fields"]) for r in rows if r["action"] in ("user.create", "user.update")}
    assert fields == {
        ("full_name", "password", "role", "username"),
        ("full_name", "password"),
    }
