"""Report calendars and hotspot communes as data, seeded with the plans' default
calendar (six-monthly cut off at 15 May and 15 November, quarters nested in them,
annual from 16 December), and the `reporting_officer` role

Revision ID: 20261203_report_calendars
Revises: 20261203_codes
Create Date: 2026-12-03 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_report_calendars"
down_revision: str | None = "20261203_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The plans' calendar: the six-monthly returns cut off at 15 May and 15 November, the
# annual one runs from 16 December; quarters are cut so that two make a half.
DEFAULT_CALENDARS = {
    "six_monthly": [{"first": "11-16", "last": "05-15"}, {"first": "05-16", "last": "11-15"}],
    "quarterly": [
        {"first": "11-16", "last": "02-15"},
        {"first": "02-16", "last": "05-15"},
        {"first": "05-16", "last": "08-15"},
        {"first": "08-16", "last": "11-15"},
    ],
    "annual": [{"first": "12-16", "last": "12-15"}],
}
_ROLES = ("system_admin", "agency_admin", "supervisor", "case_worker", "hotline_operator",
          "auditor", "analyst")  # fmt: skip


def _roles(*roles: str) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade() -> None:
    calendars = op.create_table(
        "report_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("periods", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "kind IN ('six_monthly', 'quarterly', 'annual')", name=op.f("ck_report_calendars_kind")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(periods) = 'array'", name=op.f("ck_report_calendars_periods")
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_report_calendars_province_code_provinces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_calendars")),
    )
    op.create_index(
        "uq_report_calendars_province_kind",
        "report_calendars",
        ["province_code", "kind"],
        unique=True,
        postgresql_where=sa.text("province_code IS NOT NULL"),
    )
    op.create_index(
        "uq_report_calendars_default_kind",
        "report_calendars",
        ["kind"],
        unique=True,
        postgresql_where=sa.text("province_code IS NULL"),
    )
    op.bulk_insert(
        calendars,
        [
            {"province_code": None, "kind": kind, "periods": periods}
            for kind, periods in DEFAULT_CALENDARS.items()
        ],
    )
    op.create_table(
        "hotspot_communes",
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("commune_code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_hotspot_communes_province_code_provinces"),
        ),
        sa.PrimaryKeyConstraint("province_code", "commune_code", name=op.f("pk_hotspot_communes")),
    )
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(
        op.f("ck_users_role"), "users", _roles(*_ROLES, "reporting_officer")
    )


def downgrade() -> None:
    op.execute("UPDATE users SET role = 'analyst' WHERE role = 'reporting_officer'")
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", _roles(*_ROLES))
    op.drop_table("hotspot_communes")
    op.drop_index(
        "uq_report_calendars_default_kind",
        table_name="report_calendars",
        postgresql_where=sa.text("province_code IS NULL"),
    )
    op.drop_index(
        "uq_report_calendars_province_kind",
        table_name="report_calendars",
        postgresql_where=sa.text("province_code IS NOT NULL"),
    )
    op.drop_table("report_calendars")
