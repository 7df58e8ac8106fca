"""Checking the agency function a step needs (the tables are
`app.domain.agency_functions`): the caller's agency (403
`agency-function-required`, audited) or an agency the request names (422 on its
field). Functions are read from the agency's kind (`agency_kinds.functions`)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.agency_functions import lacking
from app.errors import ValidationFailed
from app.i18n import msg
from app.models import Agency, AgencyKind
from app.security.principal import Principal
from app.services.cases.access import AgencyFunctionRequired


async def kind_functions(session: AsyncSession, kind: str) -> frozenset[str]:
    functions = (
        await session.execute(select(col(AgencyKind.functions)).where(col(AgencyKind.code) == kind))
    ).scalar_one_or_none()
    return frozenset(functions or ())


async def agency_functions(session: AsyncSession, agency_id: uuid.UUID) -> frozenset[str]:
    """The functions of an agency's kind (none for an unknown agency)."""
    functions = (
        await session.execute(
            select(col(AgencyKind.functions))
            .join(Agency, col(Agency.kind) == col(AgencyKind.code))
            .where(col(Agency.id) == agency_id)
        )
    ).scalar_one_or_none()
    return frozenset(functions or ())


async def require_own(
    session: AsyncSession,
    principal: Principal,
    needed: frozenset[str],
    *,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | None = None,
) -> None:
    """403 `agency-function-required`, with a denied audit row, unless the caller's
    agency kind has one of `needed`. Call it before any write: the refusal commits."""
    missing = lacking(needed, await kind_functions(session, principal.agency_kind))
    if missing is None:
        return
    await audit.record(
        session,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        principal=principal,
        outcome="denied",
        reason="missing_function:" + ":".join(sorted(needed)),
    )
    raise AgencyFunctionRequired(
        msg("This needs an agency with the '{function}' function.", function=missing)
    )


async def require_named(
    session: AsyncSession, agency_id: uuid.UUID, needed: frozenset[str], *, field: str
) -> None:
    """422 on `field` unless the agency it names has one of `needed`."""
    missing = lacking(needed, await agency_functions(session, agency_id))
    if missing is not None:
        message = msg("must be an agency with the '{function}' function", function=missing)
        raise ValidationFailed([{"field": field, "message": message}], detail=message)
