"""Idempotency-Key edge cases the endpoint tests do not reach."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel
from sqlalchemy import select
from starlette.requests import Request

from app.errors import DeniedNotFound
from app.idempotency import Idempotency
from app.models import IdempotencyRecord
from app.security.permissions import Role
from tests.conftest import World


def _request(body: dict[str, object]) -> Request:
    payload = json.dumps(body).encode()

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": payload, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/things",
        "headers": [(b"content-type", b"application/json")],
        "query_string": b"",
    }
    return Request(scope, receive)


async def test_error_that_keeps_its_work_does_not_keep_the_key(world: World) -> None:
    actor = await world.user(Role.AGENCY_ADMIN)
    from app.security.principal import Principal

    principal = Principal(
        actor_id=actor.id,
        role=Role.AGENCY_ADMIN,
        agency_id=actor.agency.id,
        agency_kind=actor.agency.kind,
        province_code=actor.agency.province_code,
    )

    async def refused() -> BaseModel:
        raise DeniedNotFound()

    idempotency = Idempotency(_request({"a": 1}), world.session, principal, "key-1")
    with pytest.raises(DeniedNotFound):
        await idempotency.run(refused)
    await world.session.commit()  # what the request's session would do for keep_work
    rows = (await world.session.execute(select(IdempotencyRecord))).all()
    assert rows == []
