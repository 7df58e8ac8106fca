"""The reporting columns of a case (app/services/cases/stats.py): set at intake, kept in
step with PATCH, and never anything identifying."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.ethnicities import group_of
from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body, open_case, years_ago
from tests.conftest import World
from tests.reports import report_seed


async def _stats(engine: AsyncEngine, case_id: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT victim_sex, victim_age_at_intake, victim_nationality, "
                    "victim_ethnicity_group, victim_hometown_province_code, is_child, is_minor "
                    "FROM cases WHERE id = :id"
                ),
                {"id": uuid.UUID(case_id)},
            )
        ).one()
    return dict(row._mapping)


@pytest.mark.parametrize(
    ("given", "group"),
    [
        ("01", "kinh"),
        ("08", "minority"),
        ("03", "minority"),
        ("54", "minority"),
        ("foreign", "foreign"),
        ("unknown", "unknown"),
        # Free text the API took before codes counts in no group at all.
        ("Kinh (Việt)", None),
        ("", None),
        (None, None),
    ],
)
def test_ethnicity_group(given: str | None, group: str | None) -> None:
    assert group_of(given) == group


async def test_intake_sets_reporting_columns(world: World, engine: AsyncEngine) -> None:
    worker = await world.user(Role.CASE_WORKER)
    body = intake_body(
        sex="female",
        date_of_birth=years_ago(15, days=10),
        ethnicity="08",
        hometown_province_code="37",
        nationality="VN",
    )
    case = await open_case(world, worker, body)
    assert await _stats(engine, case["id"]) == {
        "victim_sex": "female",
        "victim_age_at_intake": 15,
        "victim_nationality": "VN",
        "victim_ethnicity_group": "minority",
        "victim_hometown_province_code": "37",
        "is_child": True,
        "is_minor": True,
    }


async def test_unknown_values_stay_unknown(world: World, engine: AsyncEngine) -> None:
    worker = await world.user(Role.CASE_WORKER)
    case = await open_case(world, worker, intake_body(sex="unknown", date_of_birth=None))
    stats = await _stats(engine, case["id"])
    assert stats["victim_sex"] == "unknown"
    assert stats["victim_age_at_intake"] is None
    assert stats["victim_ethnicity_group"] is None
    assert stats["is_child"] is False


async def test_patch_keeps_columns_in_step(world: World, engine: AsyncEngine) -> None:
    worker = await world.user(Role.CASE_WORKER)
    case = await open_case(world, worker, intake_body(ethnicity="01"))
    response = await world.client.patch(
        f"/api/v1/cases/{case['id']}",
        json={
            "victim": {
                "sex": "male",
                "date_of_birth": years_ago(17),
                "ethnicity": None,
                "nationality": "LA",
            }
        },
        headers={**worker.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    stats = await _stats(engine, case["id"])
    assert stats["victim_sex"] == "male"
    assert stats["victim_age_at_intake"] == 17
    assert stats["victim_nationality"] == "LA"
    assert stats["victim_ethnicity_group"] is None
    assert (stats["is_child"], stats["is_minor"]) == (False, True)


@pytest.mark.parametrize(
    ("ethnicity", "group"),
    [("01", "kinh"), ("02", "minority"), ("foreign", "foreign"), ("unknown", "unknown")],
)
async def test_the_group_comes_from_the_code(
    world: World, engine: AsyncEngine, ethnicity: str, group: str
) -> None:
    worker = await world.user(Role.CASE_WORKER)
    case = await open_case(world, worker, intake_body(ethnicity=ethnicity))
    assert (await _stats(engine, case["id"]))["victim_ethnicity_group"] == group


async def test_a_former_hometown_code_counts_in_the_current_province(
    world: World, engine: AsyncEngine
) -> None:
    """Hà Giang (02) merged into Tuyên Quang (08) in 2025: the report counts 08."""
    worker = await world.user(Role.CASE_WORKER)
    case = await open_case(world, worker, intake_body(hometown_province_code="02"))
    assert (await _stats(engine, case["id"]))["victim_hometown_province_code"] == "08"


async def test_delivered_support_types_follow_the_services(
    world: World, engine: AsyncEngine
) -> None:
    """A trigger keeps `cases.delivered_support_types` (what the summary report groups
    support types by): a delivered service adds its type, once, sorted; a requested
    one adds nothing until it is delivered."""
    worker = await world.user(Role.CASE_WORKER)
    case_id = (await open_case(world, worker))["id"]
    ids = [uuid.UUID(case_id)]

    async def types() -> list[str]:
        async with engine.connect() as conn:
            return list(
                await conn.scalar(
                    text("SELECT delivered_support_types FROM cases WHERE id = :id"),
                    {"id": ids[0]},
                )
            )

    assert await types() == []
    await report_seed.services(world, worker, ids, type="medical", status="requested")
    assert await types() == []
    await report_seed.services(world, worker, ids, type="medical")
    await report_seed.services(world, worker, ids, type="medical")
    await report_seed.services(world, worker, ids, type="essential_needs")
    assert await types() == ["essential_needs", "medical"]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE support_services SET status = 'delivered', delivered_at = now() "
                "WHERE case_id = :id AND status = 'requested'"
            ),
            {"id": ids[0]},
        )
    assert await types() == ["essential_needs", "medical"]
    await report_seed.services(world, worker, ids, type="travel", status="requested")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE support_services SET status = 'delivered', delivered_at = now() "
                "WHERE case_id = :id AND type = 'travel'"
            ),
            {"id": ids[0]},
        )
    assert await types() == ["essential_needs", "medical", "travel"]
