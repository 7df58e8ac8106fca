"""OWASP API3:2023 broken object property level authorization.

Mass assignment: every JSON request body refuses a field it does not declare (422
naming the field), checked in the OpenAPI document and on the wire. Excessive data
exposure: no response schema and no answer in a realistic scenario carries a stored
secret (ciphertext, wrapped keys, blind indexes, password or token hashes), and no
answer without a reveal carries the victim's identity in clear.
"""

from __future__ import annotations

import re
from typing import Any

from app.config import Settings
from app.main import create_app
from app.security.permissions import Role
from tests.conftest import World
from tests.owasp.scenario import USER_ROLES, build
from tests.routes import api_routes

DOCUMENT = create_app(Settings(VCM_ENV="dev")).openapi()  # type: ignore[call-arg]
COMPONENTS = DOCUMENT["components"]["schemas"]
EXTRA = "zz_not_a_field"
# Property names of stored secrets: never in an answer, whatever the route.
SECRET_NAMES = re.compile(
    r"(ciphertext|_enc$|^enc_|encrypted|nonce|wrapped|blind|_index$|^index_|password|"
    r"token_hash|secret_hash|request_hash|_hmac$|^kek|_kek$|^dek$|_dek$|private_key)"
)
# Public integrity values of the audit chain, tokens the token endpoint issues, and
# the flag saying a password must be changed (a boolean, not a password).
NOT_SECRET = {
    "hash",
    "prev_hash",
    "head_hash",
    "access_token",
    "refresh_token",
    "must_change_password",
}
ORDER = [Role.CASE_WORKER, Role.SUPERVISOR, Role.SYSTEM_ADMIN, Role.AGENCY_ADMIN,
         Role.HOTLINE_OPERATOR, Role.AUDITOR, Role.ANALYST]  # fmt: skip


def _refs(node: Any, found: set[str]) -> set[str]:
    """Names of the component schemas `node` uses, transitively."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref and (name := ref.rsplit("/", 1)[-1]) not in found:
            found.add(name)
            _refs(COMPONENTS[name], found)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def _json_bodies() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, operations in DOCUMENT["paths"].items():
        for method, op in operations.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path, content["application/json"]["schema"]))
    return sorted(found, key=lambda x: (x[1], x[0]))


def _property_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        names |= set(node.get("properties", {}))
        for value in node.values():
            names |= _property_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _property_names(value)
    return names


def test_every_json_body_schema_forbids_unknown_fields() -> None:
    loose = []
    for method, path, schema in _json_bodies():
        for name in _refs(schema, set()):
            component = COMPONENTS[name]
            if (
                component.get("type") == "object"
                and component.get("additionalProperties") is not False
            ):
                loose.append(f"{method} {path}: {name}")
    assert _json_bodies() and not loose, loose


def test_no_response_schema_names_a_secret() -> None:
    used: set[str] = set()
    for operations in DOCUMENT["paths"].values():
        for op in operations.values():
            _refs(op.get("responses", {}), used)
    names = set().union(*(_property_names(COMPONENTS[n]) for n in used)) - NOT_SECRET
    assert not {n for n in names if SECRET_NAMES.search(n)}


async def test_unknown_field_is_422_on_every_json_write_route(world: World) -> None:
    """Some permitted role gets the 422 naming the field (a refused role gets its
    403/404 first, which says nothing about the body)."""
    scenario = await build(world)
    accepted = []
    for method, path, _ in _json_bodies():
        url = re.sub(r"\{([^}]+)\}", lambda m: scenario.ids.get(m.group(1), m.group(0)), path)
        for role in ORDER:
            headers = {**scenario.headers(role), "If-Match": '"1"'}
            response = await world.client.request(method, url, json={EXTRA: 1}, headers=headers)
            if response.status_code == 422:
                fields = {e["field"] for e in response.json().get("errors", [])}
                if EXTRA not in fields:
                    accepted.append(f"{method} {path}: {fields}")
                break
        else:
            accepted.append(f"{method} {path}: no role got 422")
    assert not accepted, accepted


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


async def test_no_answer_carries_a_secret_or_clear_identity(world: World) -> None:
    """Every GET route, as every role, over a case with a victim whose national ID and
    phone are known: no secret-named property, and those values never in clear."""
    scenario = await build(world)
    seen: list[Any] = list(scenario.answers)
    routes = sorted(p for m, p in api_routes(create_app(Settings(VCM_ENV="dev"))) if m == "GET")  # type: ignore[call-arg]
    texts = []
    for role in USER_ROLES:
        for path in routes:
            url = re.sub(r"\{([^}]+)\}", lambda m: scenario.ids.get(m.group(1), m.group(0)), path)
            response = await world.client.get(url, headers=scenario.headers(role))
            texts.append((role, path, response.text))
            if response.headers.get("content-type", "").startswith("application/json"):
                seen.append(response.json())
    leaked = {k for k in _keys(seen) - NOT_SECRET if SECRET_NAMES.search(k)}
    assert not leaked, leaked
    secrets = [
        scenario.victim["national_id"],
        scenario.victim["phone"],
        scenario.actors[Role.CASE_WORKER].password,
    ]
    for role, path, text in texts:
        for secret in secrets:
            assert secret not in text, (role, path)
