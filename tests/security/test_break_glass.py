"""Break-glass regressions (issue 19): the grant reads and never writes, ends with
its window, is reviewed by auditors only, and keeps its reason out of every plaintext
store."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.security.permissions import Role
from tests.break_glass.helpers import REASON, auditor, expire, opened, outside
from tests.conftest import World, assert_problem

QUEUE = "/api/v1/break-glass"


async def test_no_write_and_no_other_read_during_the_window(world: World) -> None:
    o = await outside(world)
    await opened(world, o.police, o.case["id"])
    base = f"/api/v1/cases/{o.case['id']}"
    headers = {**o.police.headers, "If-Match": '"1"'}
    writes = [
        ("PATCH", base, {}),
        ("POST", base + "/transitions", {"to": "verifying", "reason": "bắt đầu"}),
        ("POST", base + "/evidence", {"source": "rescuing_agency", "description": "biên bản",
                                      "obtained_at": "2026-01-15T08:00:00+00:00"}),
        ("POST", base + "/criminal-proceedings", {"reference": "VA 1/2026", "stage": "reported"}),
    ]  # fmt: skip
    for method, path, body in writes:
        response = await world.client.request(method, path, json=body, headers=headers)
        assert_problem(response, 403)
    for path in ("/timeline", "/evidence", "/persons", "/access-log", "/consents"):
        response = await world.client.get(base + path, headers=o.police.headers)
        assert_problem(response, 403)
    # The case itself is untouched.
    lead_view = await world.client.get(base, headers=o.lead.headers)
    assert lead_view.json()["version"] == o.case["version"]
    assert lead_view.json()["status"] == o.case["status"]


async def test_an_expired_grant_reaches_nothing(world: World, engine: AsyncEngine) -> None:
    o = await outside(world)
    grant = await opened(world, o.police, o.case["id"])
    await expire(engine, grant["id"])
    base = f"/api/v1/cases/{o.case['id']}"
    for path in ("", "/timeline", "/evidence"):
        assert_problem(await world.client.get(base + path, headers=o.police.headers), 404)


async def test_only_auditors_review(world: World) -> None:
    o = await outside(world)
    grant = await opened(world, o.police, o.case["id"])
    review = f"{QUEUE}/{grant['id']}/review"
    for who in (o.police, o.lead, await world.user(Role.AGENCY_ADMIN, o.lead.agency)):
        listed = await world.client.get(QUEUE, params={"reviewed": "false"}, headers=who.headers)
        assert_problem(listed, 403)
        assert REASON not in listed.text
        answered = await world.client.post(
            review, json={"verdict": "justified"}, headers=who.headers
        )
        assert_problem(answered, 403)
    assert (await world.client.get(QUEUE)).status_code == 401
    # The police user cannot judge their own emergency, and nothing was judged.
    queue = await world.client.get(
        QUEUE, params={"reviewed": "false"}, headers=(await auditor(world)).headers
    )
    assert grant["id"] in [i["id"] for i in queue.json()["items"]]


async def test_the_reason_is_never_stored_in_clear(world: World, engine: AsyncEngine) -> None:
    o = await outside(world)
    grant = await opened(world, o.police, o.case["id"])
    note = "Ghi chú của kiểm toán viên về Nguyễn Văn Kiểm (test)"
    response = await world.client.post(
        f"{QUEUE}/{grant['id']}/review",
        json={"verdict": "justified", "note": note},
        headers=(await auditor(world)).headers,
    )
    assert response.status_code == 200, response.text
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT reason, review_note FROM break_glass WHERE id = :id"),
                {"id": uuid.UUID(grant["id"])},
            )
        ).one()
        dumps = [
            str(r)
            for table in ("audit_events", "webhook_events", "case_timeline", "idempotency_keys")
            for r in (await conn.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608
        ]
    for plaintext in (REASON, note):
        for column in row:
            assert plaintext.encode() not in bytes(column)
        assert not any(plaintext in dump for dump in dumps)
