"""OWASP API4:2023 unrestricted resource consumption.

Every list caps its page (`limit` 1..100: 0 and 101 are 422), every write route refuses
a body over the size limit with 413 before reading it, and every string field of a
request body refuses a value one character over its documented `maxLength`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.security.permissions import Role
from tests.conftest import World, assert_problem
from tests.owasp.scenario import build
from tests.owasp.test_api3_property_level import COMPONENTS, DOCUMENT, ORDER, _json_bodies

PAGED = sorted(
    path
    for path, ops in DOCUMENT["paths"].items()
    if any(p["name"] == "limit" for p in ops.get("get", {}).get("parameters", []))
)
WRITES = sorted(
    (method.upper(), path)
    for path, ops in DOCUMENT["paths"].items()
    for method in ops
    if method in ("post", "patch", "put")
)


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), m.group(0)), path)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]])
    return schema


def _bounded_strings(schema: dict[str, Any]) -> dict[str, int]:
    """Top-level string properties with a maxLength (also inside `anyOf` with null)."""
    found = {}
    for name, prop in _resolve(schema).get("properties", {}).items():
        for option in [prop, *prop.get("anyOf", [])]:
            if option.get("type") == "string" and "maxLength" in option:
                found[name] = option["maxLength"]
    return found


def test_lists_are_paged() -> None:
    assert len(PAGED) >= 8


async def test_page_size_is_bounded_on_every_list(world: World) -> None:
    scenario = await build(world)
    wrong = []
    for path in PAGED:
        url = _fill(path, scenario.ids)
        for limit in (0, 101, 10**9):
            for role in ORDER:  # the first role allowed to list gets the 422
                r = await world.client.get(
                    url, params={"limit": limit}, headers=scenario.headers(role)
                )
                if r.status_code not in (403, 404):
                    break
            if r.status_code != 422:
                wrong.append(f"{path}?limit={limit}: {r.status_code}")
    assert not wrong, wrong


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_oversized_body_is_413(world: World, method: str, path: str) -> None:
    worker = await world.user(Role.CASE_WORKER)
    settings = world.client._transport.app.state.settings  # type: ignore[attr-defined]
    body = b'{"a": "' + b"x" * settings.max_body_bytes + b'"}'
    url = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
    response = await world.client.request(
        method, url, content=body, headers={**worker.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 413)


async def test_strings_over_max_length_are_422(world: World) -> None:
    scenario = await build(world)
    wrong = []
    checked = 0
    for method, path, schema in _json_bodies():
        url = _fill(path, scenario.ids)
        for name, limit in _bounded_strings(schema).items():
            checked += 1
            for role in ORDER:
                headers = {**scenario.headers(role), "If-Match": '"1"'}
                body = {name: "x" * (limit + 1)}
                r = await world.client.request(method, url, json=body, headers=headers)
                if r.status_code == 422:
                    if name not in {e["field"] for e in r.json().get("errors", [])}:
                        wrong.append(f"{method} {path} {name}: accepted {limit + 1} chars")
                    break
            else:
                wrong.append(f"{method} {path} {name}: no role got 422")
    assert checked >= 10 and not wrong, wrong
