"""Agency functions at every step and foreign victims: the closure code of a case
(`handed_back`, trao trả: a foreign victim handed back to their country), given only
when the case is closed. The functions themselves are checked in code against the
agency kinds' data; no kind changes here.

Revision ID: 20261203_agency_functions
Revises: 20261203_verification
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_agency_functions"
down_revision: str | None = "20261203_verification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CODES = ("handed_back",)


def upgrade() -> None:
    op.add_column("cases", sa.Column("closure_code", sa.String(length=32), nullable=True))
    codes = ", ".join(f"'{c}'" for c in _CODES)
    op.create_check_constraint(
        op.f("ck_cases_closure_code"),
        "cases",
        f"closure_code IS NULL OR (closure_code IN ({codes}) AND status = 'closed')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_cases_closure_code"), "cases", type_="check")
    op.drop_column("cases", "closure_code")
