"""Where an agency may receive a person (open a case): within its own province.

Rules:
- An agency of a provincial kind receives only in its own province.
- An agency of a national kind (`agency_kinds.provincial` false: national agencies,
  missions abroad, the hotline; such an agency usually has no province) receives
  anywhere; whether its kind may receive at
  all is the agency-function check's business, not this one's.
- A border guard also receives at its posts: the provinces listed in its
  `post_province_codes` (data on the agency, set when it is registered).
A refusal is a field error on the reception province (422).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agency, AgencyKind
from app.security.principal import Principal

FIELD = "received_location.province_code"
MESSAGE = "is outside the receiving agency's province and posts"


async def receives_in(session: AsyncSession, principal: Principal, province_code: str) -> bool:
    """Whether the caller's agency may open a case received in `province_code`."""
    own = principal.province_code
    if own is None or own == province_code:
        return True  # the common case answers without a query
    agency = await session.get(Agency, principal.agency_id)
    if agency is None:
        return False
    if province_code in (agency.post_province_codes or ()):
        return True
    kind = await session.get(AgencyKind, agency.kind)
    return kind is not None and not kind.provincial
