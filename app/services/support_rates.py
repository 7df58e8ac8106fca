"""Support rates: the amounts provinces (or the nation) pay per support type and unit.

Rules:
- Anyone who works with cases or their figures reads rates (case workers,
  supervisors, analysts) and so does the system administrator, who alone adds them.
  Other roles get 403.
- Rates of one (province, type, unit) never overlap in time: 409. The check runs under
  a transaction-level advisory lock of that key, and the table's exclusion
  constraint backs it up.
- `rate_in_force`: the province's rate in force on the day, else the national one.

Audited: `support_rate.list` (one event per page), `support_rate.create`.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.domain.entitlements import CAPPED_TYPES
from app.domain.support_money import CAP_DAYS_PER_UNIT
from app.errors import Conflict, DeniedForbidden, NotFound, ValidationFailed
from app.i18n import msg
from app.models import Province
from app.models.support import SupportRate
from app.schemas.support import SupportRateCreate
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.pagination import PageParams, page_of, paginate

# Reading rates: any one of these permissions (case work, reports, managing rates).
_READ_ANY_OF = (Permission.CASES_READ, Permission.REPORTS_READ, Permission.SUPPORT_RATES_MANAGE)


async def ensure_can_read(session: AsyncSession, principal: Principal) -> None:
    """403 (and a denied audit row) for a role that neither works cases, reads
    reports nor manages rates."""
    if any(principal.can(p) for p in _READ_ANY_OF):
        return
    await audit.record(
        session,
        action="access.denied",
        resource_type="support_rate",
        principal=principal,
        outcome="denied",
        reason="missing_permission:support_rates:read",
    )
    raise DeniedForbidden("Reading support rates needs case, report or rate permissions.")


def _in_force(on: date) -> ColumnElement[bool]:
    return and_(
        col(SupportRate.effective_from) <= on,
        or_(col(SupportRate.effective_to).is_(None), col(SupportRate.effective_to) >= on),
    )


async def list_rates(
    session: AsyncSession,
    params: PageParams,
    *,
    principal: Principal,
    province_code: str | None = None,
    type: str | None = None,
    on: date | None = None,
) -> tuple[list[SupportRate], str | None]:
    await ensure_can_read(session, principal)
    statement = select(SupportRate)
    if province_code:
        statement = statement.where(col(SupportRate.province_code) == province_code)
    if type:
        statement = statement.where(col(SupportRate.type) == type)
    if on:
        statement = statement.where(_in_force(on))
    rows = list(
        (
            await session.execute(
                paginate(statement, params, col(SupportRate.created_at), col(SupportRate.id))
            )
        ).scalars()
    )
    await audit.record(
        session, action="support_rate.list", resource_type="support_rate", principal=principal
    )
    return page_of(rows, params, lambda r: (r.created_at, r.id))


async def create_rate(
    session: AsyncSession, data: SupportRateCreate, *, principal: Principal | None
) -> SupportRate:
    """Add a rate; 422 for an unknown province, or essential needs in a unit the
    120-day cap cannot count (`app.domain.support_money.CAP_DAYS_PER_UNIT`); 409 when
    it overlaps a rate of the same province, type and unit."""
    if data.province_code and await session.get(Province, data.province_code) is None:
        raise ValidationFailed([{"field": "province_code", "message": "unknown province"}])
    if data.type in CAPPED_TYPES and data.unit.value not in CAP_DAYS_PER_UNIT:
        units = ", ".join(CAP_DAYS_PER_UNIT)
        raise ValidationFailed(
            [
                {
                    "field": "unit",
                    "message": msg("essential needs are priced by the {units}", units=units),
                }
            ]
        )
    key = f"support_rate:{data.province_code or '--'}:{data.type.value}:{data.unit.value}"
    # Serialises creators of the same key, so two overlapping rows cannot both pass
    # the check below; other keys are not held up.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    overlap = (
        await session.execute(
            select(func.count())
            .select_from(SupportRate)
            .where(
                col(SupportRate.province_code).is_(None)
                if data.province_code is None
                else col(SupportRate.province_code) == data.province_code,
                col(SupportRate.type) == data.type.value,
                col(SupportRate.unit) == data.unit.value,
                or_(
                    col(SupportRate.effective_to).is_(None),
                    col(SupportRate.effective_to) >= data.effective_from,
                ),
                *(
                    ()
                    if data.effective_to is None
                    else (col(SupportRate.effective_from) <= data.effective_to,)
                ),
            )
        )
    ).scalar_one()
    if overlap:
        raise Conflict(
            "A rate of this province, type and unit is already in force for part of "
            "these dates; end it (effective_to) or choose other dates."
        )
    rate = SupportRate(
        province_code=data.province_code,
        type=data.type.value,
        unit=data.unit.value,
        amount_vnd=data.amount_vnd,
        max_units=data.max_units,
        effective_from=data.effective_from,
        effective_to=data.effective_to,
        legal_basis=data.legal_basis,
        created_by=principal.actor_id if principal else None,
    )
    session.add(rate)
    await session.flush()
    await audit.record(
        session,
        action="support_rate.create",
        resource_type="support_rate",
        resource_id=rate.id,
        principal=principal,
        fields=tuple(sorted(data.model_fields_set)),
    )
    return rate


async def end_rate(
    session: AsyncSession, rate_id: uuid.UUID, effective_to: date, *, principal: Principal
) -> SupportRate:
    """Set the last day a rate is in force (a council's new resolution replaces it).

    Rates are a legal record: amounts and dates already in force are never rewritten,
    so a rate may only be ended, or ended earlier; extending it could silently
    change amounts of services already computed from its successor (409).
    """
    rate = await session.get(SupportRate, rate_id, with_for_update=True)
    if rate is None:
        raise NotFound()
    if effective_to < rate.effective_from:
        raise ValidationFailed(
            [{"field": "effective_to", "message": "must not be before effective_from"}]
        )
    if rate.effective_to is not None and effective_to > rate.effective_to:
        raise Conflict("A rate can be ended earlier, never extended; add a new rate instead.")
    rate.effective_to = effective_to
    await session.flush()
    await audit.record(
        session,
        action="support_rate.end",
        resource_type="support_rate",
        resource_id=rate.id,
        principal=principal,
        fields=("effective_to",),
    )
    return rate


async def rate_in_force(
    session: AsyncSession,
    province_code: str | None,
    type: str,
    on_date: date,
    *,
    unit: str | None = None,
) -> SupportRate | None:
    """The province's rate for `type` (and `unit`, when given) in force on `on_date`,
    else the national one, else None. Several units in force at once: the first by
    unit name, so the answer is stable."""
    statement = (
        select(SupportRate)
        .where(col(SupportRate.type) == type, _in_force(on_date))
        .where(
            or_(
                col(SupportRate.province_code).is_(None),
                col(SupportRate.province_code) == province_code,
            )
        )
        # Province rows first (NULL sorts last ascending), then by unit.
        .order_by(col(SupportRate.province_code).asc().nulls_last(), col(SupportRate.unit))
        .limit(1)
    )
    if unit is not None:
        statement = statement.where(col(SupportRate.unit) == unit)
    return (await session.execute(statement)).scalar_one_or_none()


# Demo rates (dev only): the national social-assistance standard as the law set it,
# and made-up Nghệ An rates within the 2020 ranges, labelled as samples.
_SAMPLE_BASIS = "Mẫu/sample: mức minh hoạ của HĐND tỉnh Nghệ An, không phải văn bản thật"
DEMO_RATES = [
    # (province, type, unit, amount, from, to, legal basis)
    (None, "essential_needs", "month", 360_000, date(2021, 7, 1), date(2024, 6, 30),
     "Nghị định 20/2021/NĐ-CP"),
    (None, "essential_needs", "month", 500_000, date(2024, 7, 1), None,
     "Nghị định 76/2024/NĐ-CP"),
    ("40", "essential_needs", "day", 60_000, date(2024, 1, 1), None, _SAMPLE_BASIS),
    ("40", "travel", "day", 100_000, date(2024, 1, 1), None, _SAMPLE_BASIS),
    ("40", "initial_allowance", "lump_sum", 3_000_000, date(2024, 1, 1), None, _SAMPLE_BASIS),
]  # fmt: skip


async def seed_demo_rates(session: AsyncSession) -> int:
    """Add the demo rates that are missing (same key and start date); returns how many.
    A rate an administrator already put in force over those dates is left alone."""
    added = 0
    for province, type_, unit, amount, start, end, basis in DEMO_RATES:
        data = SupportRateCreate.model_validate(
            {
                "province_code": province,
                "type": type_,
                "unit": unit,
                "amount_vnd": amount,
                "effective_from": start,
                "effective_to": end,
                "legal_basis": basis,
            }
        )
        try:
            await create_rate(session, data, principal=None)
        except Conflict:  # raised before anything is written
            continue
        added += 1
    return added
