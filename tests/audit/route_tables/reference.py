"""Audit scenarios of the reference lists (`GET /api/v1/reference/...`): code lists
with nobody's data in them, so reading one records nothing; a caller without a token
is refused all the same."""

from __future__ import annotations

from app.security.permissions import Role
from tests.audit.arrange import Case, get_as

ETHNICITIES = "/api/v1/reference/ethnicities"

ROUTES: dict[tuple[str, str], list[Case] | str] = {
    ("GET", ETHNICITIES): [
        Case("case worker", get_as(ETHNICITIES, Role.CASE_WORKER), 200, ()),
        Case("hotline operator", get_as(ETHNICITIES, Role.HOTLINE_OPERATOR), 200, ()),
        Case("anonymous", get_as(ETHNICITIES, None), 401, ()),
    ],
}
