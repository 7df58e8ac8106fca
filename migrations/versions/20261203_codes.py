"""Codes: a border guard's posts (the provinces where it also receives), a person's
hometown as a former province code, and the reporting ethnic groups `foreign` and
`unknown` on cases

Provinces: the 34 rows 20261123_foundation seeded are the 2025 provinces of the
`vietnam-provinces` library, code for code (tests/domain/test_codes.py compares the
table with the library), so no row changes here. Had they differed, this migration
would write the rows as they are today rather than import the library: a migration
is history, and must mean the same thing when replayed after the library moves on.

Existing cases keep their `victim_ethnicity_group` (kinh or minority, folded from the
free text the API took before codes): re-deriving it needs the ethnicity, which is
encrypted per person and out of a migration's reach. New values come from the code.

Revision ID: 20261203_codes
Revises: 20261203_agency_functions
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_codes"
down_revision: str | None = "20261203_agency_functions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_GROUPS = "victim_ethnicity_group IN ('kinh', 'minority')"
_GROUPS = "victim_ethnicity_group IN ('kinh', 'minority', 'foreign', 'unknown')"


def _recheck(condition: str) -> None:
    op.drop_constraint(op.f("ck_cases_victim_ethnicity_group"), "cases", type_="check")
    op.create_check_constraint(op.f("ck_cases_victim_ethnicity_group"), "cases", condition)


def upgrade() -> None:
    op.add_column(
        "agencies",
        sa.Column("post_province_codes", postgresql.ARRAY(sa.String(length=2)), nullable=True),
    )
    op.add_column(
        "persons", sa.Column("hometown_former_province_code", sa.String(length=2), nullable=True)
    )
    _recheck(_GROUPS)


def downgrade() -> None:
    # The old reports knew no foreign or unknown group: such a case reads "not recorded".
    op.execute(
        "UPDATE cases SET victim_ethnicity_group = NULL "
        "WHERE victim_ethnicity_group IN ('foreign', 'unknown')"
    )
    _recheck(_OLD_GROUPS)
    op.drop_column("persons", "hometown_former_province_code")
    op.drop_column("agencies", "post_province_codes")
