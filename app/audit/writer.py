"""The one audit writer: services call `record()` inside the work's own transaction.

Rules:
- The event is inserted in the caller's transaction and nowhere else, so it commits
  or rolls back with the work it records. If the insert fails, `record()` raises
  `ServiceUnavailable` (503); the session dependency then rolls the whole request
  back, so no work is ever committed without its audit row.
- An event holds names and ids, never values: `fields` are field names, `reason` is
  a code or fixed text written by the program, never user input.
- `record()` only inserts. Chaining (prev_hash, hash, gap-free sequence) is done
  after commit by the sealer (`app.audit.chain`), so writers never wait on a lock.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import bindparam, insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.driver import DriverStatement, audit_may_run_alone
from app.errors import ServiceUnavailable
from app.models.audit import AuditEvent

if TYPE_CHECKING:
    from fastapi import Request

    from app.security.principal import Principal

Outcome = Literal["success", "denied", "error"]
ActorType = Literal["user", "client", "system", "anonymous"]

PURPOSES = frozenset(
    {
        "case_management",
        "investigation",
        "protection",
        "support_delivery",
        "legal_proceedings",
        "emergency",
    }
)
PURPOSE_HEADER = "X-Purpose-Of-Use"

# Action, resource type and reason are program-written codes; the pattern keeps a
# careless caller from passing free text (which could carry a personal value).
_CODE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
_FIELD = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


# Built once: a table-level INSERT with execute-time parameters skips the ORM's bulk
# path and re-coercing values into a new statement on every event (3x faster).
_EVENTS = AuditEvent.metadata.tables[AuditEvent.__tablename__]
_INSERT_EVENT = insert(_EVENTS)
_EVENT_VALUES = (
    "actor_type", "actor_id", "actor_agency_id", "actor_role", "token_id",
    "client_address", "request_id", "action", "resource_type", "resource_id",
    "person_id", "fields", "purpose", "emergency", "outcome", "reason",
)  # fmt: skip
# The same INSERT on the driver (`app.driver`), for a session whose transaction has
# begun or a request that only reads.
_INSERT_EVENT_ON_DRIVER = DriverStatement(
    insert(_EVENTS).values({name: bindparam(name) for name in _EVENT_VALUES}).inline()
)


@dataclass(frozen=True)
class AuditContext:
    """Request metadata for an event that has no principal (a login, the CLI)."""

    request_id: str | None = None
    client_address: str | None = None
    actor_id: uuid.UUID | None = None
    actor_type: ActorType = "user"
    agency_id: uuid.UUID | None = None
    role: str | None = None
    token_id: str | None = None


SYSTEM_CONTEXT = AuditContext(actor_type="system")


def context_from_request(
    request: Request,
    *,
    actor_id: uuid.UUID | None = None,
    actor_type: ActorType | None = None,
    agency_id: uuid.UUID | None = None,
    role: str | None = None,
    token_id: str | None = None,
) -> AuditContext:
    """The request id and client address of `request`, plus whatever actor is known."""
    from app.deps import client_address  # deferred: deps imports the models package

    return AuditContext(
        request_id=getattr(request.state, "request_id", None),
        client_address=client_address(request),
        actor_id=actor_id,
        actor_type=actor_type or ("user" if actor_id else "anonymous"),
        agency_id=agency_id,
        role=role,
        token_id=token_id,
    )


def purpose_from_request(request: Request) -> str | None:
    """The stated purpose of use if it is one of the codes, else None (never the raw text)."""
    value = (request.headers.get(PURPOSE_HEADER) or "").strip().lower()
    return value if value in PURPOSES else None


def _check_code(name: str, value: str | None) -> None:
    if value is not None and not _CODE.match(value):
        raise ValueError(f"audit {name} must be a program-written code")


async def record(
    session: AsyncSession,
    *,
    action: str,
    resource_type: str,
    resource_id: str | uuid.UUID | None = None,
    principal: Principal | None = None,
    context: AuditContext | None = None,
    person_id: uuid.UUID | None = None,
    fields: Sequence[str] = (),
    purpose: str | None = None,
    outcome: Outcome = "success",
    reason: str | None = None,
) -> None:
    """Insert one audit event in the caller's transaction; 503 if it cannot be written.

    The principal, when given, supplies the actor; otherwise `context` (or the system
    context) does. Request id and client address come from the principal, falling
    back to `context`.
    """
    _check_code("action", action)
    _check_code("resource_type", resource_type)
    _check_code("reason", reason)
    for name in fields:
        if not _FIELD.match(name):
            raise ValueError("audit fields must be field names")
    if purpose is not None and purpose not in PURPOSES:
        raise ValueError("unknown purpose of use")
    ctx = context or SYSTEM_CONTEXT
    values: dict[str, object]
    if principal is not None:
        values = {
            "actor_type": principal.actor_type,
            "actor_id": principal.actor_id,
            "actor_agency_id": principal.agency_id,
            "actor_role": str(principal.role),
            "token_id": principal.token_id,
            "client_address": principal.client_address or ctx.client_address,
            "request_id": principal.request_id or ctx.request_id,
        }
    else:
        values = {
            "actor_type": ctx.actor_type,
            "actor_id": ctx.actor_id,
            "actor_agency_id": ctx.agency_id,
            "actor_role": ctx.role,
            "token_id": ctx.token_id,
            "client_address": ctx.client_address,
            "request_id": ctx.request_id,
        }
    values.update(
        action=action,
        resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        person_id=person_id,
        fields=sorted(set(fields)),
        purpose=purpose,
        emergency=purpose == "emergency",
        outcome=outcome,
        reason=reason,
    )
    try:
        # Either INSERT runs now, not at the next flush, so a failure surfaces here.
        if await audit_may_run_alone(session):
            await _INSERT_EVENT_ON_DRIVER.execute(session, values)
        else:  # the session's own statement, which begins the request's transaction
            await session.execute(_INSERT_EVENT, values)
    except (DBAPIError, SQLAlchemyError) as exc:
        raise ServiceUnavailable("The audit trail could not be written.") from exc
