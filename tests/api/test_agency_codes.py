"""`POST /api/v1/agencies`: a border guard's posts, and a commune of the agency's own
province (2025 units)."""

from __future__ import annotations

from typing import Any

import pytest

from app.security.permissions import Role
from tests.conftest import World, assert_problem

AGENCIES = "/api/v1/agencies"


async def _create(world: World, **body: Any) -> Any:
    sysadmin = await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
    return await world.client.post(
        AGENCIES, json={"name": "Đơn vị (test)", **body}, headers=sysadmin.headers
    )


async def test_a_border_guard_is_registered_with_its_posts(world: World) -> None:
    response = await _create(
        world,
        code="BDBP-40",
        kind="border_guard",
        province_code="40",
        post_province_codes=["42", "37", "42"],
    )
    assert response.status_code == 201, response.text
    assert response.json()["post_province_codes"] == ["37", "42"]
    police = await _create(world, code="CA-40", kind="police", province_code="40")
    assert police.json()["post_province_codes"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "police", "post_province_codes": ["37"]}, "post_province_codes"),
        ({"kind": "border_guard", "post_province_codes": ["99"]}, "post_province_codes[0]"),
        ({"kind": "border_guard", "post_province_codes": ["35"]}, "post_province_codes[0]"),
        ({"kind": "commune", "commune_code": "zzz"}, "commune_code"),
        ({"kind": "commune", "commune_code": "14464"}, "commune_code"),  # of Ninh Bình
    ],
)
async def test_codes_out_of_place_are_422(world: World, body: dict[str, Any], field: str) -> None:
    response = await _create(world, code="X-1", province_code="40", **body)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == [field]  # type: ignore[attr-defined]


async def test_a_commune_agency_in_its_commune(world: World) -> None:
    response = await _create(
        world, code="UBND-16681", kind="commune", province_code="40", commune_code="16681"
    )
    assert response.status_code == 201, response.text
    assert response.json()["commune_code"] == "16681"
