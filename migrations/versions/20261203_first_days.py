"""The first days: the victim's age basis and estimate (presumed a minor while the age
is unknown), first needs and risk level, the commune the person was brought to, the
`legal_obligation` basis of the notifications the service makes itself, and the
`child_protection` function (held by social affairs, as data)

Revision ID: 20261203_first_days
Revises: 20261203_case_participants
Create Date: 2026-12-03 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_first_days"
down_revision: str | None = "20261203_case_participants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEEDS = ("shelter", "food", "medical_urgent", "interpretation", "contact_family", "safety",
          "other")  # fmt: skip


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _recheck(table: str, name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, condition)


def upgrade() -> None:
    op.add_column("cases", sa.Column("age_basis", sa.String(length=16), nullable=True))
    op.add_column("cases", sa.Column("age_estimate", sa.SmallInteger(), nullable=True))
    # Cases recorded before: the date of birth gave the age, or nothing did, and a
    # person whose age is unknown is presumed a minor.
    op.execute(
        "UPDATE cases SET age_basis = CASE WHEN victim_age_at_intake IS NULL "
        "THEN 'presumed_minor' ELSE 'date_of_birth' END, "
        "is_minor = is_minor OR victim_age_at_intake IS NULL"
    )
    op.alter_column("cases", "age_basis", nullable=False, server_default="presumed_minor")
    op.add_column(
        "cases",
        sa.Column(
            "first_needs",
            postgresql.ARRAY(sa.String(length=24)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column("cases", sa.Column("risk_level", sa.String(length=8), nullable=True))
    op.add_column(
        "cases", sa.Column("brought_to_commune_code", sa.String(length=10), nullable=True)
    )
    op.add_column(
        "cases", sa.Column("brought_to_commune_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_cases_age_basis"),
        "cases",
        "age_basis IN ('date_of_birth', 'estimate', 'presumed_minor')",
    )
    op.create_check_constraint(
        op.f("ck_cases_age_estimate"), "cases", "age_estimate BETWEEN 0 AND 120"
    )
    op.create_check_constraint(
        op.f("ck_cases_risk_level"), "cases", "risk_level IN ('low', 'medium', 'high')"
    )
    op.create_check_constraint(
        op.f("ck_cases_first_needs"), "cases", f"first_needs <@ ARRAY[{_in(*_NEEDS)}]::varchar[]"
    )
    _recheck(
        "referrals",
        "legal_basis",
        "legal_basis IN ('consent', 'investigation', 'emergency', 'legal_obligation')",
    )
    op.execute(
        "UPDATE agency_kinds SET functions = array_append(functions, 'child_protection') "
        "WHERE code = 'social_affairs' AND NOT 'child_protection' = ANY(functions)"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE agency_kinds SET functions = array_remove(functions, 'child_protection') "
        "WHERE code = 'social_affairs'"
    )
    # The older schema has no such basis: the closest it knows is an emergency.
    op.execute(
        "UPDATE referrals SET legal_basis = 'emergency' WHERE legal_basis = 'legal_obligation'"
    )
    _recheck(
        "referrals", "legal_basis", "legal_basis IN ('consent', 'investigation', 'emergency')"
    )
    for name in ("first_needs", "risk_level", "age_estimate", "age_basis"):
        op.drop_constraint(op.f(f"ck_cases_{name}"), "cases", type_="check")
    for column in (
        "brought_to_commune_at",
        "brought_to_commune_code",
        "risk_level",
        "first_needs",
        "age_estimate",
        "age_basis",
    ):
        op.drop_column("cases", column)
