"""Arrangements for the cases tests: intake bodies and opened cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.conftest import Actor, World, fake


def intake_body(**victim: Any) -> dict[str, Any]:
    """A valid intake body for a made-up adult victim; `victim` overrides fields."""
    person: dict[str, Any] = {
        "full_name": fake.name(),
        "sex": "female",
        "nationality": "VN",
        "date_of_birth": "1998-04-12",
        "national_id": f"0{fake.numerify('##########')}1",
        "phone": f"09{fake.numerify('########')}",
    }
    person.update(victim)
    return {
        "intake_source": "police_rescue",
        "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "received_location": {"province_code": "40", "commune_code": "16681"},
        "victim": {k: v for k, v in person.items() if v is not None},
        "exploitation_types": ["forced_labour"],
        "destination_country": "CN",
    }


async def open_case(
    world: World, actor: Actor, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await world.client.post(
        "/api/v1/cases", json=body or intake_body(), headers=actor.headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def years_ago(years: int, days: int = 0) -> str:
    today = date.today()
    return (today.replace(year=today.year - years) - timedelta(days=days)).isoformat()
