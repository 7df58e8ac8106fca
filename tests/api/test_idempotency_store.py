"""The idempotency store keeps what a replay needs (status, resource id and location,
a digest of the request), never the answer's body: a replay re-reads the resource,
so an erased identity is not handed back, and keys are purged after the window."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.cases.intake_helpers import intake_body
from tests.conftest import World

CASES = "/api/v1/cases"
ERASURE = "Điều 16 Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15; Quyết định 12/QĐ-SYT"


async def _stored(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT row_to_json(t)::text FROM idempotency_keys t"))
        return [r[0] for r in rows]


def _masked(
    victim: dict[str, Any],
    fields: tuple[str, ...] = ("full_name", "national_id", "phone", "date_of_birth"),
) -> list[str]:
    return [str(victim[f]) for f in fields if victim.get(f)]


async def test_the_store_keeps_no_identity_nor_case_number(
    world: World, engine: AsyncEngine
) -> None:
    worker = await world.user(Role.CASE_WORKER)
    headers = {**worker.headers, "Idempotency-Key": "intake-store"}
    first = await world.client.post(CASES, json=intake_body(), headers=headers)
    assert first.status_code == 201, first.text
    answer = first.json()
    (row,) = await _stored(engine)
    assert answer["id"] in row and f"{CASES}/{answer['id']}" in row
    assert answer["case_number"] not in row
    masked = _masked(answer["victim"])
    assert masked  # the answer does carry masked identity
    for value in masked:
        assert value not in row
    assert str(answer["victim"]["birth_year"]) not in row.replace(answer["id"], "")


async def test_a_replay_answers_the_same_status_and_the_resource_as_it_is_now(
    world: World,
) -> None:
    worker = await world.user(Role.CASE_WORKER)
    headers = {**worker.headers, "Idempotency-Key": "intake-now"}
    body = intake_body()
    first = await world.client.post(CASES, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await world.client.post(CASES, json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    current = await world.client.get(f"{CASES}/{first.json()['id']}", headers=worker.headers)
    assert again.json() == current.json()


async def test_a_replay_after_erasure_does_not_return_the_erased_identity(
    world: World,
) -> None:
    worker = await world.user(Role.CASE_WORKER)
    admin = await world.user(Role.SYSTEM_ADMIN)
    headers = {**worker.headers, "Idempotency-Key": "intake-erased"}
    body = intake_body()
    first = await world.client.post(CASES, json=body, headers=headers)
    assert first.status_code == 201, first.text
    victim = first.json()["victim"]
    erased = await world.client.post(
        f"/api/v1/persons/{victim['id']}/erasure",
        json={"legal_basis": ERASURE, "reason_code": "data_subject_request"},
        headers=admin.headers,
    )
    assert erased.status_code == 200, erased.text
    again = await world.client.post(CASES, json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["victim"]["erased"] is True
    # The birth year is a statistics column erasure keeps; the identity is gone.
    for value in _masked(victim, ("full_name", "national_id", "phone")):
        assert value not in again.text


async def test_keys_are_purged_after_the_retention_window(
    world: World, engine: AsyncEngine
) -> None:
    worker = await world.user(Role.CASE_WORKER)
    old = {**worker.headers, "Idempotency-Key": "intake-old"}
    body = intake_body()
    first = await world.client.post(CASES, json=body, headers=old)
    assert first.status_code == 201, first.text
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        )
    fresh = {**worker.headers, "Idempotency-Key": "intake-fresh"}
    assert (await world.client.post(CASES, json=intake_body(), headers=fresh)).status_code == 201
    rows = await _stored(engine)
    assert len(rows) == 1 and "intake-fresh" in rows[0]
    # The purged key is forgotten: the same key does the work afresh.
    again = await world.client.post(CASES, json=body, headers=old)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]


async def test_a_key_within_the_window_is_kept(world: World, engine: AsyncEngine) -> None:
    worker = await world.user(Role.CASE_WORKER)
    old = {**worker.headers, "Idempotency-Key": "intake-recent"}
    assert (await world.client.post(CASES, json=intake_body(), headers=old)).status_code == 201
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE idempotency_keys SET created_at = now() - interval '23 hours'")
        )
    fresh = {**worker.headers, "Idempotency-Key": "intake-other"}
    assert (await world.client.post(CASES, json=intake_body(), headers=fresh)).status_code == 201
    assert len(await _stored(engine)) == 2


async def test_a_replay_of_what_the_caller_can_no_longer_read_answers_so(
    world: World, engine: AsyncEngine
) -> None:
    admin = await world.user(Role.AGENCY_ADMIN)
    elsewhere = await world.agency()
    headers = {**admin.headers, "Idempotency-Key": "user-moved"}
    body = {
        "username": "moved.worker",
        "password": "a long enough passphrase",
        "full_name": "Người Dùng Thử",
        "role": "case_worker",
    }
    first = await world.client.post("/api/v1/users", json=body, headers=headers)
    assert first.status_code == 201, first.text
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET agency_id = :a WHERE username = 'moved.worker'"),
            {"a": elsewhere.id},
        )
    again = await world.client.post("/api/v1/users", json=body, headers=headers)
    assert again.status_code == 404
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "moved.worker" not in again.text
