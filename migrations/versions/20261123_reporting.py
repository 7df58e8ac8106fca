"""reporting columns on cases: victim sex, age at reception, nationality, ethnic group,
home province (non-identifying, so reports never decrypt)

Revision ID: 20261123_reporting
Revises: 20261123_support_services
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_reporting"
down_revision: str | None = "20261123_support_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("victim_sex", sa.String(length=8), nullable=False, server_default="unknown"),
    )
    op.alter_column("cases", "victim_sex", server_default=None)
    op.add_column("cases", sa.Column("victim_age_at_intake", sa.SmallInteger(), nullable=True))
    op.add_column("cases", sa.Column("victim_nationality", sa.String(length=2), nullable=True))
    op.add_column(
        "cases", sa.Column("victim_ethnicity_group", sa.String(length=10), nullable=True)
    )
    op.add_column(
        "cases", sa.Column("victim_hometown_province_code", sa.String(length=2), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_cases_victim_sex"), "cases", "victim_sex IN ('female', 'male', 'other', 'unknown')"
    )
    op.create_check_constraint(
        op.f("ck_cases_victim_ethnicity_group"),
        "cases",
        "victim_ethnicity_group IN ('kinh', 'minority')",
    )
    op.create_index(
        "ix_cases_province_received", "cases", ["province_code", "received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_cases_province_received", table_name="cases")
    op.drop_constraint(op.f("ck_cases_victim_ethnicity_group"), "cases", type_="check")
    op.drop_constraint(op.f("ck_cases_victim_sex"), "cases", type_="check")
    for column in (
        "victim_hometown_province_code",
        "victim_ethnicity_group",
        "victim_nationality",
        "victim_age_at_intake",
        "victim_sex",
    ):
        op.drop_column("cases", column)
