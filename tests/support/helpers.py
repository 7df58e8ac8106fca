"""Arrangements for the support tests: rates written as rows, actors of one agency."""

from __future__ import annotations

from datetime import date

from app.models.support import SupportRate
from app.security.permissions import Role
from tests.conftest import Actor, World


async def add_rate(
    world: World,
    type: str,
    amount_vnd: int,
    *,
    unit: str = "day",
    province_code: str | None = "40",
    effective_from: date = date(2020, 1, 1),
    effective_to: date | None = None,
    max_units: int | None = None,
) -> SupportRate:
    rate = SupportRate(
        province_code=province_code,
        type=type,
        unit=unit,
        amount_vnd=amount_vnd,
        max_units=max_units,
        effective_from=effective_from,
        effective_to=effective_to,
        legal_basis="Nghị quyết mẫu của HĐND tỉnh (sample, test)",
    )
    world.session.add(rate)
    await world.session.commit()
    return rate


# The agency kind that may give a support as the lead of its case: social affairs for
# all but the loan (the Bank for Social Policies) and legal aid (a legal-aid centre).
LEAD_KIND = {"loan": "bank", "legal_aid": "legal_aid"}


async def team(world: World, kind: str = "social_affairs") -> tuple[Actor, Actor]:
    """A case worker and a supervisor of one agency of `kind` (social affairs by
    default) in Nghệ An."""
    agency = await world.agency(kind, "40")
    return await world.user(Role.CASE_WORKER, agency), await world.user(Role.SUPERVISOR, agency)


async def sysadmin(world: World) -> Actor:
    return await world.user(Role.SYSTEM_ADMIN, await world.agency("national"))
