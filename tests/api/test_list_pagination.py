"""Every list is paginated: `?limit=` and `?cursor=`, answering
`{"items": [...], "next_cursor": ...}`.

The list routes are found in the OpenAPI document (a GET answering an array, or an
object with `items`), and walked through their route audit scenarios: `limit=1`
gives at most one item, and a next cursor when there are more.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings
from app.errors import ValidationFailed
from app.main import create_app
from app.security.permissions import Role
from app.services.pagination import PageParams, page_in_memory
from tests.audit.test_route_audit import ROUTES
from tests.cases.intake_helpers import open_case
from tests.conftest import World

# Lists returned whole, and why.
WHOLE = {
    # A fixed code table (54 ethnic groups, `foreign`, `unknown`), the same for all.
    "/api/v1/reference/ethnicities": "a fixed reference table",
}


def _schema(spec: dict[str, Any], ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    ref = ref_or_schema.get("$ref")
    if ref is None:
        return ref_or_schema
    found: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def _list_routes() -> dict[str, bool]:
    """GET paths answering a list: path -> whether the answer is a page."""
    spec = create_app(Settings(VCM_ENV="dev")).openapi()  # type: ignore[call-arg]
    found: dict[str, bool] = {}
    for path, operations in spec["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        content = answer.get("content", {}).get("application/json", {})
        if "schema" not in content:
            continue
        schema = _schema(spec, content["schema"])
        properties = schema.get("properties", {})
        if schema.get("type") == "array":
            found[path] = False
        elif properties.get("items", {}).get("type") == "array":
            found[path] = "next_cursor" in properties
    return found


LISTS = _list_routes()


def test_every_list_is_a_page() -> None:
    assert "/api/v1/cases/{case_id}/timeline" in LISTS
    unpaged = sorted(path for path, paged in LISTS.items() if not paged and path not in WHOLE)
    assert not unpaged, f"lists without limit/cursor: {unpaged}"


SCENARIOS = [
    pytest.param(case, id=f"GET {path} [{case.name}]")
    for (method, path), cases in ROUTES.items()
    if method == "GET" and path in LISTS and path not in WHOLE and isinstance(cases, list)
    for case in cases
    if case.status == 200
]


def _with(url: str, **params: str) -> str:
    joined = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{joined}"


@pytest.mark.parametrize("case", SCENARIOS)
async def test_limit_one_gives_one_item_and_a_cursor_when_there_are_more(
    world: World, case: Any
) -> None:
    call = await case.arrange(world)
    whole = await world.client.get(_with(call.url, limit="100"), headers=call.headers)
    assert whole.status_code == 200, whole.text
    total = len(whole.json()["items"])
    first = await world.client.get(_with(call.url, limit="1"), headers=call.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) <= 1
    if total > 1:
        assert page["next_cursor"], f"{call.url}: {total} items, no next cursor at limit=1"
        second = await world.client.get(
            _with(call.url, limit="1", cursor=page["next_cursor"]), headers=call.headers
        )
        assert second.status_code == 200, second.text
        assert second.json()["items"] and second.json()["items"] != page["items"]


async def test_the_timeline_pages_oldest_first(world: World) -> None:
    worker = await world.user(Role.CASE_WORKER)
    case = await open_case(world, worker)
    url = f"/api/v1/cases/{case['id']}"
    for target, version in (("verifying", 1),):
        moved = await world.client.post(
            f"{url}/transitions",
            json={"to": target},
            headers={**worker.headers, "If-Match": f'"{version}"'},
        )
        assert moved.status_code == 200, moved.text
    whole = (await world.client.get(f"{url}/timeline", headers=worker.headers)).json()
    assert len(whole["items"]) >= 2 and whole["next_cursor"] is None
    walked: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
        answer = await world.client.get(f"{url}/timeline{query}", headers=worker.headers)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["items"]) == 1
        walked.extend(answer.json()["items"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
    assert walked == whole["items"]
    assert walked[0]["kind"] == "case_opened"  # oldest first


def test_a_list_built_in_memory_pages_by_position() -> None:
    items = list(range(5))
    pages, cursor = [], None
    while True:
        page, cursor = page_in_memory(items, PageParams(limit=2, cursor=cursor))
        pages.append(page)
        if cursor is None:
            break
    assert pages == [[0, 1], [2, 3], [4]]
    for bad in ("not-a-cursor", "Wy0xXQ"):  # garbage, [-1]
        with pytest.raises(ValidationFailed):
            page_in_memory(items, PageParams(limit=2, cursor=bad))
