"""`Idempotency-Key` on creates: a retry with the same key and body gets the first
answer's status and the resource as it reads now (a GET of where it lives, with the
caller's own access); the same key with a different body is 422. Only the status, the
resource id and location, and a digest of the request are kept (no body: it held
masked identity), and only for `VCM_IDEMPOTENCY_RETENTION_HOURS`.

The key row is inserted in the request's own transaction before the work, so: a
concurrent retry waits on the unique key until the first commits, then replays it; a
first attempt that fails rolls its key back and the retry does the work afresh.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

import httpx
from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.db import SessionDep
from app.deps import CurrentPrincipal
from app.errors import AppError, DeniedNotFound, ValidationFailed
from app.http import location_of, set_location
from app.models import IdempotencyRecord
from app.security.principal import Principal

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retry-safe creates: the same key and body return the first response.",
    ),
]


class Idempotency:
    def __init__(
        self,
        request: Request,
        session: AsyncSession,
        principal: Principal,
        key: str | None,
        *,
        retention: timedelta = timedelta(hours=24),
    ) -> None:
        self.request = request
        self.session = session
        self.principal = principal
        self.key = key
        self.retention = retention

    async def run(
        self,
        create: Callable[[], Awaitable[BaseModel]],
        *,
        status_code: int = 201,
        resource_type: str = "request",
        location: str | None = None,
    ) -> JSONResponse:
        """Run `create` once per key. A replay is audited as `<resource_type>.create`,
        reason `idempotent_replay`, and answers the resource as it is now. A 201 (and
        its replay) carries `Location`: `location`, else where the app reads the
        created id (`app.http.location_of`)."""
        if not self.key:
            body = jsonable_encoder(await create())
            return self._created(JSONResponse(body, status_code=status_code), body, location)
        request_hash = hashlib.sha256(
            self.request.method.encode()
            + b" "
            + self.request.url.path.encode()
            + b"\n"
            + _canonical(await self.request.body())
        ).digest()
        # Purge on write: a key is remembered for the retention window only.
        await self.session.execute(
            delete(IdempotencyRecord).where(
                col(IdempotencyRecord.created_at) < func.now() - self.retention
            )
        )
        inserted = (
            await self.session.execute(
                insert(IdempotencyRecord)
                .values(
                    principal_id=self.principal.actor_id,
                    key=self.key,
                    method=self.request.method,
                    path=self.request.url.path,
                    request_hash=request_hash,
                    status_code=0,
                )
                .on_conflict_do_nothing()
                .returning(col(IdempotencyRecord.key))
            )
        ).first()
        if inserted is None:
            return await self._replay(request_hash, resource_type, location)
        try:
            body = jsonable_encoder(await create())
        except AppError as exc:
            if exc.keep_work:
                # The error's own records commit; the key must not, or a retry would
                # replay an empty answer instead of doing the work.
                await self.session.execute(
                    delete(IdempotencyRecord).where(
                        col(IdempotencyRecord.principal_id) == self.principal.actor_id,
                        col(IdempotencyRecord.key) == self.key,
                    )
                )
            raise
        stored = await self.session.get(IdempotencyRecord, (self.principal.actor_id, self.key))
        assert stored is not None
        stored.status_code = status_code
        stored.resource_id = _record_id(body)
        if stored.resource_id is not None:
            stored.location = location_of(self.request, stored.resource_id)
        await self.session.flush()
        return self._created(JSONResponse(body, status_code=status_code), body, location)

    def _created(self, answer: JSONResponse, body: object, location: str | None) -> JSONResponse:
        if answer.status_code == 201:
            set_location(self.request, answer, _record_id(body), location=location)
        return answer

    async def _replay(
        self, request_hash: bytes, resource_type: str, location: str | None
    ) -> JSONResponse:
        record = (
            await self.session.execute(
                select(IdempotencyRecord).where(
                    col(IdempotencyRecord.principal_id) == self.principal.actor_id,
                    col(IdempotencyRecord.key) == self.key,
                )
            )
        ).scalar_one()
        if record.request_hash != request_hash:
            raise ValidationFailed(
                [{"field": "Idempotency-Key", "message": "reused with a different request"}]
            )
        await audit.record(
            self.session,
            action=f"{resource_type}.create",
            resource_type=resource_type,
            resource_id=record.resource_id,
            principal=self.principal,
            reason="idempotent_replay",
        )
        replayed = {"Idempotent-Replayed": "true"}
        if record.resource_id is None or record.location is None:
            # Nothing to read again: the id is all a replay can give.
            ident = None if record.resource_id is None else str(record.resource_id)
            answer = JSONResponse({"id": ident}, status_code=record.status_code, headers=replayed)
        else:
            answer = await _reread(self.request, record, replayed)
        return self._created(answer, {"id": record.resource_id}, location)


async def _reread(
    request: Request, record: IdempotencyRecord, headers: dict[str, str]
) -> JSONResponse:
    """GET the resource again through the app with the caller's own credentials, so
    what the caller may no longer read (or what was erased) answers accordingly."""
    forwarded = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=str(request.base_url)) as client:
        answer = await client.get(str(record.location), headers=forwarded)
    if not answer.is_success:
        return JSONResponse(
            answer.json(),
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type", "application/json"),
            headers=headers,
        )
    found = _find(answer.json(), str(record.resource_id))
    if found is None:
        raise DeniedNotFound()
    return JSONResponse(found, status_code=record.status_code, headers=headers)


_NOT_FORWARDED = {"content-length", "content-type", "idempotency-key", "transfer-encoding"}


def _find(body: object, resource_id: str) -> object | None:
    """The resource in what its location answers: itself, or an item of a list."""
    if isinstance(body, dict):
        if str(body.get("id")) == resource_id:
            return body
        items = body.get("items")
        body = items if isinstance(items, list) else []
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict) and str(item.get("id")) == resource_id:
                return item
    return None


def _record_id(body: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(body.get("id"))) if isinstance(body, dict) else None
    except ValueError:
        return None


def _canonical(body: bytes) -> bytes:
    """JSON bodies compare by content, not by key order or spacing."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


async def idempotency(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    key: IdempotencyKeyHeader = None,
) -> Idempotency:
    hours = request.app.state.settings.idempotency_retention_hours
    return Idempotency(request, session, principal, key, retention=timedelta(hours=hours))


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
