"""Whose statistics a caller may see (issue: analysts see reports and exports of their
scope only).

Rule: a principal of an agency that belongs to a province sees that province only; an
agency with no province (national: ministries, the steering committee) sees the whole
country or any one province. Asking for another province is refused with 403 and a
denied audit event, which commits although the request fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.errors import DeniedForbidden
from app.security.principal import Principal


@dataclass(frozen=True)
class ReportScope:
    """The province the figures cover, or None for the whole country."""

    province_code: str | None

    @property
    def label(self) -> str:
        return self.province_code or "national"


async def resolve_scope(
    session: AsyncSession,
    principal: Principal,
    requested_province: str | None,
    *,
    action: str,
) -> ReportScope:
    """The scope of a report or export `action` (e.g. `report.summary`) for the caller."""
    own = principal.province_code
    if own is None:
        return ReportScope(requested_province)
    if requested_province in (None, own):
        return ReportScope(own)
    await audit.record(
        session,
        action=action,
        resource_type="report",
        principal=principal,
        outcome="denied",
        reason="out_of_scope",
    )
    raise DeniedForbidden("Reports of another province are outside this agency's scope.")
