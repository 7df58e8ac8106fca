"""The people of a journey, made the way a new deployment makes them, over HTTP: the
first system administrator (what `vcm create-user` makes) creates the agencies and
their administrators; each agency administrator creates its own staff."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from app.security.permissions import Role
from tests.conftest import World, fake


@dataclass
class Member:
    agency_id: str
    headers: dict[str, str]


@dataclass
class Agency:
    id: str
    kind: str
    province_code: str | None
    worker: Member
    supervisor: Member


class Staff:
    def __init__(self, world: World, root: dict[str, str]) -> None:
        self.world = world
        self.root = root

    @classmethod
    async def start(cls, world: World) -> Staff:
        root = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
        return cls(world, root.headers)

    async def _user(self, headers: dict[str, str], role: str, agency_id: str) -> Member:
        username = f"{role[:4]}.{uuid.uuid4().hex[:10]}"
        password = f"Pw-{uuid.uuid4().hex}"
        body = {"username": username, "password": password, "full_name": fake.name(),
                "role": role, "agency_id": agency_id}  # fmt: skip
        response = await self.world.client.post("/api/v1/users", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return Member(agency_id, await self.world.login(username, password))

    async def agency(self, kind: str, province_code: str | None, name: str) -> Agency:
        body: dict[str, Any] = {"code": f"J-{uuid.uuid4().hex[:8].upper()}", "name": name,
                                "kind": kind, "province_code": province_code}  # fmt: skip
        response = await self.world.client.post("/api/v1/agencies", json=body, headers=self.root)
        assert response.status_code == 201, response.text
        agency_id = response.json()["id"]
        admin = await self._user(self.root, "agency_admin", agency_id)
        worker_role = "hotline_operator" if kind == "hotline" else "case_worker"
        return Agency(
            agency_id,
            kind,
            province_code,
            await self._user(admin.headers, worker_role, agency_id),
            await self._user(admin.headers, "supervisor", agency_id),
        )

    async def auditor(self) -> dict[str, str]:
        national = await self.world.client.get("/api/v1/auth/me", headers=self.root)
        agency_id = national.json()["agency_id"]
        return (await self._user(self.root, "auditor", agency_id)).headers
