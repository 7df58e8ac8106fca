"""`Idempotency-Key` on creates: a retry with the same key and body gets the first
answer (same status, same id); the same key with a different body is 422.

The key row is inserted in the request's own transaction before the work, so: a
concurrent retry waits on the unique key until the first commits, then replays it; a
first attempt that fails rolls its key back and the retry does the work afresh.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.db import SessionDep
from app.deps import CurrentPrincipal
from app.errors import AppError, ValidationFailed
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
    ) -> None:
        self.request = request
        self.session = session
        self.principal = principal
        self.key = key

    async def run(
        self,
        create: Callable[[], Awaitable[BaseModel]],
        *,
        status_code: int = 201,
        resource_type: str = "request",
    ) -> JSONResponse:
        """Run `create` once per key. A replay hands the stored record back, so it is
        audited as a read of it: `<resource_type>.create`, reason `idempotent_replay`."""
        if not self.key:
            body = jsonable_encoder(await create())
            return JSONResponse(body, status_code=status_code)
        request_hash = hashlib.sha256(
            self.request.method.encode()
            + b" "
            + self.request.url.path.encode()
            + b"\n"
            + _canonical(await self.request.body())
        ).digest()
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
                    response_body={},
                )
                .on_conflict_do_nothing()
                .returning(col(IdempotencyRecord.key))
            )
        ).first()
        if inserted is None:
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
                resource_id=_record_id(record.response_body),
                principal=self.principal,
                reason="idempotent_replay",
            )
            return JSONResponse(
                record.response_body,
                status_code=record.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
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
        stored.response_body = body
        await self.session.flush()
        return JSONResponse(body, status_code=status_code)


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
    return Idempotency(request, session, principal, key)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
