"""GET|POST /api/v1/agencies, GET /api/v1/agencies/{id}."""

from __future__ import annotations

import uuid

from app.security.permissions import Role
from tests.conftest import World, assert_problem


class TestAgencies:
    async def test_anonymous_401(self, world: World) -> None:
        assert_problem(await world.client.get("/api/v1/agencies"), 401)

    async def test_system_admin_creates(self, world: World) -> None:
        sysadmin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        response = await world.client.post(
            "/api/v1/agencies",
            json={
                "code": "ca-92",
                "name": "Công an TP Cần Thơ",
                "kind": "police",
                "province_code": "92",
            },
            headers=sysadmin.headers,
        )
        assert response.status_code == 201, response.text
        assert response.json()["code"] == "CA-92"
        again = await world.client.post(
            "/api/v1/agencies",
            json={"code": "CA-92", "name": "x y", "kind": "police", "province_code": "92"},
            headers=sysadmin.headers,
        )
        assert_problem(again, 409)

    async def test_rules_on_kind_and_province(self, world: World) -> None:
        sysadmin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        cases = [
            {"code": "X1", "name": "Xx", "kind": "spaceport", "province_code": "40"},
            {"code": "X2", "name": "Xx", "kind": "police"},
            {"code": "X3", "name": "Xx", "kind": "police", "province_code": "99"},
        ]
        for body in cases:
            response = await world.client.post(
                "/api/v1/agencies", json=body, headers=sysadmin.headers
            )
            assert_problem(response, 422)
        hotline = await world.client.post(
            "/api/v1/agencies",
            json={"code": "TD-111", "name": "Tổng đài 111", "kind": "hotline"},
            headers=sysadmin.headers,
        )
        assert hotline.status_code == 201

    async def test_only_system_admin_creates(self, world: World) -> None:
        for role in (Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.AUDITOR):
            actor = await world.user(role)
            response = await world.client.post(
                "/api/v1/agencies",
                json={"code": "Z9", "name": "Zz", "kind": "police", "province_code": "40"},
                headers=actor.headers,
            )
            assert_problem(response, 403)

    async def test_list_filters_and_get(self, world: World) -> None:
        worker = await world.user(Role.CASE_WORKER)
        police = await world.agency("police", "37")
        listed = await world.client.get(
            "/api/v1/agencies", params={"kind": "police"}, headers=worker.headers
        )
        assert [a["id"] for a in listed.json()["items"]] == [str(police.id)]
        got = await world.client.get(f"/api/v1/agencies/{police.id}", headers=worker.headers)
        assert got.json()["province_code"] == "37"
        assert_problem(
            await world.client.get(f"/api/v1/agencies/{uuid.uuid4()}", headers=worker.headers), 404
        )
