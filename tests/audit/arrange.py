"""Arrangements for the route audit table: each returns the call to make, after
setting up the users and records it needs (their own audit events come before the
mark the test takes, so they are not counted)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from app.config import Settings
from app.security.permissions import Role
from tests.conftest import World, fake

STRONG_PASSWORD = "Correct-Horse-Battery-Staple-42"


@dataclass
class Call:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None


# An expected event: (action, outcome) or (action, outcome, reason).
Expected = tuple[str, ...]


@dataclass(frozen=True)
class Case:
    name: str
    arrange: Callable[[World], Awaitable[Call]]
    status: int
    events: tuple[Expected, ...]


async def headers_for(
    world: World, role: Role, agency_kind: str = "social_affairs"
) -> dict[str, str]:
    agency = await world.agency("national" if role in _NATIONAL else agency_kind)
    return (await world.user(role, agency)).headers


_NATIONAL = {Role.SYSTEM_ADMIN, Role.AUDITOR}


def get_as(path: str, role: Role | None) -> Callable[[World], Awaitable[Call]]:
    async def arrange(world: World) -> Call:
        return Call("GET", path, await headers_for(world, role) if role else {})

    return arrange


async def worker_of_own_agency(world: World) -> tuple[dict[str, str], uuid.UUID]:
    admin = await world.user(Role.AGENCY_ADMIN)
    worker = await world.user(Role.CASE_WORKER, admin.agency, login=False)
    return admin.headers, worker.id


async def worker_of_other_agency(world: World) -> tuple[dict[str, str], uuid.UUID]:
    admin = await world.user(Role.AGENCY_ADMIN)
    stranger = await world.user(Role.CASE_WORKER, login=False)
    return admin.headers, stranger.id


def user_route(
    method: str, who: Callable[[World], Awaitable[tuple[dict[str, str], uuid.UUID]]]
) -> Callable[[World], Awaitable[Call]]:
    async def arrange(world: World) -> Call:
        headers, user_id = await who(world)
        if method == "PATCH":
            return Call(
                "PATCH",
                f"/api/v1/users/{user_id}",
                {**headers, "If-Match": '"1"'},
                json={"full_name": fake.name(), "password": STRONG_PASSWORD},
            )
        return Call(method, f"/api/v1/users/{user_id}", headers)

    return arrange


def user_route_as(role: Role | None, method: str) -> Callable[[World], Awaitable[Call]]:
    async def arrange(world: World) -> Call:
        target = await world.user(Role.CASE_WORKER, login=False)
        headers = (await world.user(role, target.agency)).headers if role else {}
        return Call(method, f"/api/v1/users/{target.id}", headers, json={"full_name": "X Y"})

    return arrange


def create_user_as(
    role: Role | None, *, replay: bool = False
) -> Callable[[World], Awaitable[Call]]:
    async def arrange(world: World) -> Call:
        headers = await headers_for(world, role) if role else {}
        body = {
            "username": f"u{uuid.uuid4().hex[:10]}",
            "password": STRONG_PASSWORD,
            "full_name": fake.name(),
            "role": "case_worker",
        }
        if replay:
            headers = {**headers, "Idempotency-Key": "same-key"}
            first = await world.client.post("/api/v1/users", json=body, headers=headers)
            assert first.status_code == 201, first.text
        return Call("POST", "/api/v1/users", headers, json=body)

    return arrange


def create_agency_as(role: Role | None) -> Callable[[World], Awaitable[Call]]:
    async def arrange(world: World) -> Call:
        headers = await headers_for(world, role) if role else {}
        body = {"code": f"A-{uuid.uuid4().hex[:6]}", "name": "Công an xã (test)", "kind": "police"}
        return Call("POST", "/api/v1/agencies", headers, json={**body, "province_code": "40"})

    return arrange


def get_agency_as(role: Role | None, *, exists: bool = True) -> Callable[[World], Awaitable[Call]]:
    async def arrange(world: World) -> Call:
        agency_id = (await world.agency()).id if exists else uuid.uuid4()
        headers = await headers_for(world, role) if role else {}
        return Call("GET", f"/api/v1/agencies/{agency_id}", headers)

    return arrange


def password_grant(kind: str) -> Callable[[World], Awaitable[Call]]:
    async def arrange(world: World) -> Call:
        actor = await world.user(Role.CASE_WORKER, login=False)
        username, password = actor.user.username, actor.password
        # Failures throttle the address they come from: the call comes from the same.
        headers = {"X-Forwarded-For": "10.0.0.1"}
        if kind == "locked":
            for _ in range(Settings.model_fields["login_max_failures"].default):
                await world.token(username, "wrong", "10.0.0.1")
        elif kind == "wrong":
            password = "wrong"
        elif kind == "unknown":
            username = "nobody.here"
        elif kind == "incomplete":
            return Call("POST", "/api/v1/auth/token", data={"grant_type": "password"})
        return Call(
            "POST",
            "/api/v1/auth/token",
            headers,
            data={"grant_type": "password", "username": username, "password": password},
        )

    return arrange


def refresh_grant(kind: str) -> Callable[[World], Awaitable[Call]]:
    async def arrange(world: World) -> Call:
        actor = await world.user(Role.CASE_WORKER, login=False)
        response = await world.token(actor.user.username, actor.password)
        token = response.json()["refresh_token"]
        if kind == "reused":
            used = await world.client.post(
                "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
            )
            assert used.status_code == 200
        elif kind == "unknown":
            token = "not-a-token"
        return Call(
            "POST",
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": token},
        )

    return arrange


def post_as(path: str, role: Role | None, json: Any = None) -> Callable[[World], Awaitable[Call]]:
    async def arrange(world: World) -> Call:
        return Call(
            "POST",
            path.format(id=uuid.uuid4()),
            await headers_for(world, role) if role else {},
            json,
        )

    return arrange


async def erase_existing_person(world: World) -> Call:
    from app.services.persons import PersonFields, create_person

    app: FastAPI = world.client._transport.app  # type: ignore[attr-defined]
    person = await create_person(
        world.session,
        app.state.keys,
        app.state.indexer,
        "victim",
        PersonFields(full_name=fake.name(), sex="female", nationality="VN"),
    )
    await world.session.commit()
    headers = await headers_for(world, Role.SYSTEM_ADMIN)
    return Call("POST", f"/api/v1/persons/{person.id}/erasure", headers, json=ERASURE)


ERASURE = {"legal_basis": "Quyết định số 12/QĐ-SYT (test)", "reason_code": "court_order"}
DENIED = ("access.denied", "denied")
