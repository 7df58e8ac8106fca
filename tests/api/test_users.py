"""GET|POST /api/v1/users, GET|PATCH /api/v1/users/{id}."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.models import User
from app.security.permissions import Role
from tests.conftest import World, assert_problem


def _new_user(role: str = "case_worker", **extra: object) -> dict[str, object]:
    return {
        "username": f"new.{uuid.uuid4().hex[:8]}",
        "password": "a long enough passphrase",
        "full_name": "Người Dùng Thử",
        "role": role,
        **extra,
    }


class TestCreateUser:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.post("/api/v1/users", json=_new_user()), 401)

    async def test_agency_admin_creates_staff_in_own_agency(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        response = await world.client.post("/api/v1/users", json=_new_user(), headers=admin.headers)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["agency_id"] == str(admin.agency.id)
        assert "password" not in body and "password_hash" not in body
        stored = await world.session.get(User, uuid.UUID(body["id"]))
        assert stored is not None and stored.password_hash.startswith("$argon2id$")

    async def test_agency_admin_cannot_create_in_other_agency(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        other = await world.agency(province_code="37")
        response = await world.client.post(
            "/api/v1/users", json=_new_user(agency_id=str(other.id)), headers=admin.headers
        )
        assert_problem(response, 422)

    async def test_agency_admin_cannot_create_admins(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        for role in ("agency_admin", "system_admin", "auditor"):
            response = await world.client.post(
                "/api/v1/users", json=_new_user(role), headers=admin.headers
            )
            assert_problem(response, 422)

    async def test_system_admin_creates_agency_admin_anywhere(self, world: World) -> None:
        sysadmin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        target = await world.agency(province_code="37")
        response = await world.client.post(
            "/api/v1/users",
            json=_new_user("agency_admin", agency_id=str(target.id)),
            headers=sysadmin.headers,
        )
        assert response.status_code == 201, response.text
        assert response.json()["agency_id"] == str(target.id)

    async def test_case_worker_is_forbidden(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        assert_problem(
            await world.client.post("/api/v1/users", json=_new_user(), headers=worker.headers),
            403,
        )

    async def test_password_policy(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        for bad in ("short", "password123", "iloveyou", "x" * 129):
            response = await world.client.post(
                "/api/v1/users", json=_new_user(password=bad), headers=admin.headers
            )
            body = assert_problem(response, 422)
            assert body["errors"][0]["field"] == "password"  # type: ignore[index]
            assert bad not in response.text
        # No composition rules: a long lower-case passphrase is fine.
        ok = await world.client.post(
            "/api/v1/users",
            json=_new_user(password="ngựa phi đường xa"),
            headers=admin.headers,
        )
        assert ok.status_code == 201

    async def test_duplicate_username_any_case_is_409(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        data = _new_user()
        assert (
            await world.client.post("/api/v1/users", json=data, headers=admin.headers)
        ).status_code == 201
        data["username"] = str(data["username"]).upper()
        assert_problem(
            await world.client.post("/api/v1/users", json=data, headers=admin.headers), 409
        )

    async def test_unknown_field_is_422(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        response = await world.client.post(
            "/api/v1/users", json=_new_user(is_superuser=True), headers=admin.headers
        )
        assert_problem(response, 422)

    async def test_idempotency_key_replays_and_refuses_other_body(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        data = _new_user()
        headers = {**admin.headers, "Idempotency-Key": "create-1"}
        first = await world.client.post("/api/v1/users", json=data, headers=headers)
        again = await world.client.post("/api/v1/users", json=data, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        count = (
            await world.session.execute(select(User).where(User.username == data["username"]))  # type: ignore[arg-type]
        ).all()
        assert len(count) == 1
        other = await world.client.post("/api/v1/users", json=_new_user(), headers=headers)
        assert_problem(other, 422)

    async def test_failed_create_does_not_burn_the_key(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        headers = {**admin.headers, "Idempotency-Key": "create-2"}
        bad = _new_user(password="short")
        assert_problem(await world.client.post("/api/v1/users", json=bad, headers=headers), 422)
        bad["password"] = "now a long passphrase"
        ok = await world.client.post("/api/v1/users", json=bad, headers=headers)
        assert ok.status_code == 201


class TestReadUsers:
    async def test_agency_admin_sees_only_own_agency(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        colleague = await world.user(Role.CASE_WORKER, admin.agency, login=False)
        stranger = await world.user(Role.CASE_WORKER, await world.agency(), login=False)
        listed = await world.client.get("/api/v1/users", headers=admin.headers)
        ids = {u["id"] for u in listed.json()["items"]}
        assert str(colleague.id) in ids and str(stranger.id) not in ids
        own = await world.client.get(f"/api/v1/users/{colleague.id}", headers=admin.headers)
        assert own.status_code == 200 and own.headers["etag"]
        assert_problem(
            await world.client.get(f"/api/v1/users/{stranger.id}", headers=admin.headers), 404
        )

    async def test_missing_and_hidden_look_the_same(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        stranger = await world.user(Role.CASE_WORKER, await world.agency(), login=False)
        hidden = await world.client.get(f"/api/v1/users/{stranger.id}", headers=admin.headers)
        missing = await world.client.get(f"/api/v1/users/{uuid.uuid4()}", headers=admin.headers)
        a, b = assert_problem(hidden, 404), assert_problem(missing, 404)
        assert a["title"] == b["title"] and a["detail"] == b["detail"]

    async def test_system_admin_sees_everyone(self, world: World) -> None:
        sysadmin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        worker = await world.user(Role.CASE_WORKER, login=False)
        r = await world.client.get(f"/api/v1/users/{worker.id}", headers=sysadmin.headers)
        assert r.status_code == 200

    async def test_pagination(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        for _ in range(4):
            await world.user(Role.CASE_WORKER, admin.agency, login=False)
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (
                await world.client.get("/api/v1/users", params=params, headers=admin.headers)
            ).json()
            seen += [u["id"] for u in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 5
        assert_problem(
            await world.client.get("/api/v1/users", params={"limit": 101}, headers=admin.headers),
            422,
        )
        assert_problem(
            await world.client.get(
                "/api/v1/users", params={"cursor": "garbage"}, headers=admin.headers
            ),
            422,
        )


class TestUpdateUser:
    async def test_if_match_required_and_checked(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        worker = await world.user(Role.CASE_WORKER, admin.agency, login=False)
        url = f"/api/v1/users/{worker.id}"
        assert_problem(
            await world.client.patch(url, json={"full_name": "Tên Mới"}, headers=admin.headers), 428
        )
        etag = (await world.client.get(url, headers=admin.headers)).headers["etag"]
        ok = await world.client.patch(
            url, json={"full_name": "Tên Mới"}, headers={**admin.headers, "If-Match": etag}
        )
        assert ok.status_code == 200 and ok.json()["full_name"] == "Tên Mới"
        assert ok.headers["etag"] != etag
        stale = await world.client.patch(
            url, json={"full_name": "Khác"}, headers={**admin.headers, "If-Match": etag}
        )
        assert_problem(stale, 412)
        assert stale.headers["etag"] == ok.headers["etag"]  # the current version

    async def test_agency_admin_cannot_touch_other_agency_user(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        stranger = await world.user(Role.CASE_WORKER, await world.agency(), login=False)
        response = await world.client.patch(
            f"/api/v1/users/{stranger.id}",
            json={"is_active": False},
            headers={**admin.headers, "If-Match": '"1"'},
        )
        assert_problem(response, 404)
        await world.session.refresh(stranger.user)
        assert stranger.user.is_active

    async def test_agency_admin_cannot_promote_to_admin(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        worker = await world.user(Role.CASE_WORKER, admin.agency, login=False)
        response = await world.client.patch(
            f"/api/v1/users/{worker.id}",
            json={"role": "system_admin"},
            headers={**admin.headers, "If-Match": '"1"'},
        )
        assert_problem(response, 422)

    async def test_disable_ends_access(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        worker = await world.user(Role.CASE_WORKER, admin.agency)
        response = await world.client.patch(
            f"/api/v1/users/{worker.id}",
            json={"is_active": False},
            headers={**admin.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200 and response.json()["is_active"] is False
        assert_problem(await world.client.get("/api/v1/auth/me", headers=worker.headers), 401)

    async def test_password_change_ends_existing_logins(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        worker = await world.user(Role.CASE_WORKER, admin.agency, login=False)
        pair = (await world.token(worker.user.username, worker.password)).json()
        response = await world.client.patch(
            f"/api/v1/users/{worker.id}",
            json={"password": "a brand new passphrase"},
            headers={**admin.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200
        old = {"Authorization": f"Bearer {pair['access_token']}"}
        assert_problem(await world.client.get("/api/v1/auth/me", headers=old), 401)
        refresh = await world.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        )
        assert_problem(refresh, 400)
        assert (
            await world.token(worker.user.username, "a brand new passphrase")
        ).status_code == 200

    async def test_cannot_disable_self(self, world: World) -> None:
        admin = await world.user(Role.AGENCY_ADMIN)
        sysadmin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        response = await world.client.patch(
            f"/api/v1/users/{sysadmin.id}",
            json={"is_active": False},
            headers={**sysadmin.headers, "If-Match": '"1"'},
        )
        assert_problem(response, 409)
        assert admin  # the agency admin exists but is irrelevant to the self-check
