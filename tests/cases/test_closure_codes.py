"""Closing a case with a closure code: `handed_back` (trao trả), a victim who is not
Vietnamese handed back to their country."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from app.models import Case
from app.security.permissions import Role
from tests.audit.helpers import events_after, last_event_id
from tests.cases.intake_helpers import intake_body, open_case
from tests.conftest import Actor, World, assert_problem

HANDED_BACK = {"to": "closed", "reason": "Trao trả tại cửa khẩu", "closure_code": "handed_back"}


async def identified_case(
    world: World, kind: str = "social_affairs", nationality: str = "LA"
) -> tuple[Actor, dict[str, Any]]:
    """A case of a victim of `nationality`, opened by `kind` and identified."""
    lead = await world.user(Role.CASE_WORKER, await world.agency(kind, "40"))
    case = await open_case(world, lead, intake_body(nationality=nationality))
    await world.session.execute(
        update(Case).where(col(Case.id) == case["id"]).values(status="identified")
    )
    await world.session.commit()
    return lead, case


async def close(world: World, lead: Actor, case: dict[str, Any], body: dict[str, Any]) -> Any:
    return await world.client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json=body,
        headers={**lead.headers, "If-Match": '"1"'},
    )


async def test_a_foreign_victim_is_handed_back(world: World, engine: AsyncEngine) -> None:
    lead, case = await identified_case(world)
    mark = await last_event_id(engine)
    response = await close(world, lead, case, HANDED_BACK)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["closure_code"]) == ("closed", "handed_back")
    read = await world.client.get(f"/api/v1/cases/{case['id']}", headers=lead.headers)
    assert read.json()["closure_code"] == "handed_back"
    events = await events_after(engine, mark)
    assert ("case.transition", "identified:closed:handed_back") in [
        (e["action"], e["reason"]) for e in events
    ]
    timeline = await world.client.get(
        f"/api/v1/cases/{case['id']}/timeline?limit=100", headers=lead.headers
    )
    last = timeline.json()["items"][-1]
    assert (last["to_status"], last["detail"]) == ("closed", "handed_back")


# A stateless resident (`XX` on older records) cannot be recorded through the API since
# nationality codes must be ISO 3166 countries; the rule is pinned in the unit tests.
@pytest.mark.parametrize("nationality", ["VN"])
async def test_a_vietnamese_victim_is_not_handed_back(world: World, nationality: str) -> None:
    lead, case = await identified_case(world, nationality=nationality)
    problem = assert_problem(await close(world, lead, case, HANDED_BACK), 422)
    assert problem["errors"][0]["field"] == "closure_code"  # type: ignore[index]
    read = await world.client.get(f"/api/v1/cases/{case['id']}", headers=lead.headers)
    assert (read.json()["status"], read.json()["closure_code"]) == ("identified", None)
    # The same case closes without the code.
    plain = await close(world, lead, case, {"to": "closed", "reason": "Hoàn tất hỗ trợ"})
    assert plain.status_code == 200, plain.text
    assert plain.json()["closure_code"] is None


async def test_a_closure_code_only_closes(world: World) -> None:
    lead, case = await identified_case(world)
    body = {"to": "supporting", "closure_code": "handed_back"}
    problem = assert_problem(await close(world, lead, case, body), 422)
    assert problem["errors"][0]["field"] == "closure_code"  # type: ignore[index]
    unknown = {**HANDED_BACK, "closure_code": "deported"}
    assert_problem(await close(world, lead, case, unknown), 422)


async def test_the_border_guard_hands_back_what_it_cannot_close_otherwise(world: World) -> None:
    # Closing an identified case is the support function's; handing a foreign victim
    # back at the border is the border guard's own step.
    lead, case = await identified_case(world, kind="border_guard")
    plain = await close(world, lead, case, {"to": "closed", "reason": "Kết thúc"})
    assert_problem(plain, 409)
    response = await close(world, lead, case, HANDED_BACK)
    assert response.status_code == 200, response.text
    assert response.json()["closure_code"] == "handed_back"
