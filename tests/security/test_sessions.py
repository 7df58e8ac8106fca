"""Every change of a user's state ends their sessions; a password an administrator
set must be changed at the next sign-in; anyone changes their own password."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from app.models import LoginFailure, User
from app.security.permissions import Role
from tests.conftest import Actor, World, assert_problem
from tests.security.helpers import bearer, sign_in

pytestmark = pytest.mark.usefixtures("clean_db")

PASSWORD = "/api/v1/auth/password"
NEW = "Ngày-mới-2026-an-toàn"


async def _patch(world: World, admin: Actor, user: Actor, body: dict[str, object]) -> None:
    current = await world.client.get(f"/api/v1/users/{user.id}", headers=admin.headers)
    response = await world.client.patch(
        f"/api/v1/users/{user.id}",
        json=body,
        headers={**admin.headers, "If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text


async def _refresh(world: World, token: str) -> httpx.Response:
    return await world.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
    )


async def _live(world: World, pair: dict[str, str]) -> tuple[int, int]:
    """(status of /auth/me with the access token, status of a refresh)."""
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    me = await world.client.get("/api/v1/auth/me", headers=headers)
    return me.status_code, (await _refresh(world, pair["refresh_token"])).status_code


class TestStateChangesEndSessions:
    async def test_re_enabling_does_not_revive_old_tokens(self, world: World) -> None:
        agency = await world.agency()
        admin = await world.user(Role.AGENCY_ADMIN, agency)
        actor = await world.user(Role.CASE_WORKER, agency, login=False)
        pair = (await sign_in(world, actor)).json()
        await _patch(world, admin, actor, {"is_active": False})
        await _patch(world, admin, actor, {"is_active": True})
        assert await _live(world, pair) == (401, 400)
        assert (await sign_in(world, actor)).status_code == 200

    @pytest.mark.parametrize(
        "body", [{"role": "supervisor"}, {"password": NEW}], ids=["role", "password"]
    )
    async def test_role_and_password_changes_end_sessions(
        self, world: World, body: dict[str, object]
    ) -> None:
        agency = await world.agency()
        admin = await world.user(Role.AGENCY_ADMIN, agency)
        actor = await world.user(Role.CASE_WORKER, agency, login=False)
        pair = (await sign_in(world, actor)).json()
        await _patch(world, admin, actor, body)
        assert await _live(world, pair) == (401, 400)

    async def test_a_name_change_keeps_sessions(self, world: World) -> None:
        agency = await world.agency()
        admin = await world.user(Role.AGENCY_ADMIN, agency)
        actor = await world.user(Role.CASE_WORKER, agency, login=False)
        pair = (await sign_in(world, actor)).json()
        await _patch(world, admin, actor, {"full_name": "Trần Thị Mới"})
        assert await _live(world, pair) == (200, 200)


class TestForcedChange:
    async def test_admin_set_password_allows_only_the_change(self, world: World) -> None:
        agency = await world.agency()
        admin = await world.user(Role.AGENCY_ADMIN, agency)
        actor = await world.user(Role.CASE_WORKER, agency, login=False)
        await _patch(world, admin, actor, {"password": NEW})
        limited = bearer(await sign_in(world, actor, password=NEW))
        refused = await world.client.get("/api/v1/cases", headers=limited)
        assert str(assert_problem(refused, 403)["type"]).endswith("password-change-required")
        me = await world.client.get("/api/v1/auth/me", headers=limited)
        assert me.json()["must_change_password"] is True
        changed = await world.client.post(
            PASSWORD,
            json={"current_password": NEW, "new_password": NEW + "-2"},
            headers=limited,
        )
        assert changed.status_code == 204
        assert_problem(await world.client.get("/api/v1/auth/me", headers=limited), 401)
        full = bearer(await sign_in(world, actor, password=NEW + "-2"))
        assert (await world.client.get("/api/v1/cases", headers=full)).status_code == 200
        await world.session.refresh(actor.user)
        assert actor.user.must_change_password is False


class TestOwnPassword:
    async def test_change_ends_every_session_and_the_old_password(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER, login=False)
        other = (await sign_in(world, actor)).json()
        this = bearer(await sign_in(world, actor))
        changed = await world.client.post(
            PASSWORD, json={"current_password": actor.password, "new_password": NEW}, headers=this
        )
        assert changed.status_code == 204
        assert_problem(await world.client.get("/api/v1/auth/me", headers=this), 401)
        assert await _live(world, other) == (401, 400)
        assert_problem(await sign_in(world, actor), 401)
        assert (await sign_in(world, actor, password=NEW)).status_code == 200

    async def test_agency_admin_changes_their_own(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        changed = await world.client.post(
            PASSWORD,
            json={"current_password": admin.password, "new_password": NEW},
            headers=admin.headers,
        )
        assert changed.status_code == 204
        assert (await sign_in(world, admin, password=NEW)).status_code == 200

    async def test_wrong_current_password_is_403_and_counted(self, world: World) -> None:
        actor = await world.user(Role.CASE_WORKER)
        for _ in range(5):
            wrong = await world.client.post(
                PASSWORD,
                json={"current_password": "not-it", "new_password": NEW},
                headers=actor.headers,
            )
            assert_problem(wrong, 403)
        count = await world.session.execute(select(func.count()).select_from(LoginFailure))
        assert count.scalar_one() == 5
        locked = await world.client.post(
            PASSWORD,
            json={"current_password": actor.password, "new_password": NEW},
            headers=actor.headers,
        )
        assert_problem(locked, 429)
        stored = await world.session.execute(
            select(User.password_hash).where(User.id == actor.id)  # type: ignore[arg-type]
        )
        assert stored.scalar_one() == actor.user.password_hash

    @pytest.mark.parametrize("new", ["short", "password123", "same"])
    async def test_policy_applies(self, world: World, new: str) -> None:
        actor = await world.user(Role.CASE_WORKER)
        body = {"current_password": actor.password, "new_password": new}
        if new == "same":
            body["new_password"] = actor.password
        response = await world.client.post(PASSWORD, json=body, headers=actor.headers)
        problem = assert_problem(response, 422)
        assert {e["field"] for e in problem["errors"]} == {"new_password"}  # type: ignore[attr-defined]
        assert (await world.client.get("/api/v1/auth/me", headers=actor.headers)).status_code == 200
