"""Agencies: listed by any signed-in user (referrals need a receiver), created by the
system administrator only.

Audited: `agency.list` (one event per page), `agency.read`, `agency.create` (with the
names of the fields set). `principal=None` is the command line or the demo loader,
recorded as the system.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Agency, AgencyKind, Province
from app.schemas.agency import AgencyCreate
from app.security.principal import Principal
from app.services.pagination import PageParams, page_of, paginate

# The kind whose agencies have posts in other provinces (border stations).
BORDER_GUARD = "border_guard"


async def list_agencies(
    session: AsyncSession,
    params: PageParams,
    *,
    kind: str | None = None,
    province_code: str | None = None,
    principal: Principal | None = None,
) -> tuple[list[Agency], str | None]:
    statement = select(Agency)
    if kind:
        statement = statement.where(col(Agency.kind) == kind)
    if province_code:
        statement = statement.where(col(Agency.province_code) == province_code)
    rows = list(
        (
            await session.execute(
                paginate(statement, params, col(Agency.created_at), col(Agency.id))
            )
        ).scalars()
    )
    await audit.record(session, action="agency.list", resource_type="agency", principal=principal)
    return page_of(rows, params, lambda a: (a.created_at, a.id))


async def get_agency(
    session: AsyncSession, agency_id: uuid.UUID, *, principal: Principal | None = None
) -> Agency:
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise NotFound()
    await audit.record(
        session,
        action="agency.read",
        resource_type="agency",
        resource_id=agency.id,
        principal=principal,
    )
    return agency


async def get_agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    return (
        await session.execute(select(Agency).where(col(Agency.code) == code.upper()))
    ).scalar_one_or_none()


def _posts(data: AgencyCreate) -> list[str] | None:
    """The provinces of a border guard's posts, sorted; None: its own province only."""
    return sorted(set(data.post_province_codes)) if data.post_province_codes else None


async def create_agency(
    session: AsyncSession, data: AgencyCreate, *, principal: Principal | None = None
) -> Agency:
    """Kind and province must exist; an agency of a provincial kind has a province."""
    errors = []
    kind = await session.get(AgencyKind, data.kind)
    if kind is None:
        errors.append({"field": "kind", "message": "unknown agency kind"})
    elif kind.provincial and data.province_code is None:
        errors.append({"field": "province_code", "message": "required for this agency kind"})
    if data.province_code is not None and await session.get(Province, data.province_code) is None:
        errors.append({"field": "province_code", "message": "unknown province code"})
    if data.post_province_codes and data.kind != BORDER_GUARD:
        errors.append({"field": "post_province_codes", "message": "only a border guard has posts"})
    if errors:
        raise ValidationFailed(errors)
    if await get_agency_by_code(session, data.code) is not None:
        raise Conflict("An agency with this code already exists.")
    agency = Agency(
        code=data.code.upper(),
        name=data.name,
        kind=data.kind,
        province_code=data.province_code,
        commune_code=data.commune_code,
        post_province_codes=_posts(data),
    )
    session.add(agency)
    await session.flush()
    await session.refresh(agency)
    await audit.record(
        session,
        action="agency.create",
        resource_type="agency",
        resource_id=agency.id,
        principal=principal,
        fields=sorted(data.model_fields_set),
    )
    return agency
