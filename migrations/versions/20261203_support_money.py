"""Support money: a one-off support once per person (partial unique index), supports
paid at actual cost against a receipt (its number and issuer encrypted, its date
plain), the `week` unit, and the `extend_care` function (social affairs, as data) that
lets the lead extend the essential-needs cap

Rows already there: of a person's one-off supports (initial allowance, health
insurance) not rejected or cancelled, the one kept is the delivered one, else the
approved one, else the earliest; the others, never paid, are cancelled so the index
can be built. Two delivered for one person (paid twice) cannot be undone by a
migration: it stops and says so, and each must be resolved by a person first.

Revision ID: 20261203_support_money
Revises: 20261203_login_throttle
Create Date: 2026-12-03 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_support_money"
down_revision: str | None = "20261203_login_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_UNITS = "'day', 'month', 'person', 'course', 'trip', 'session', 'lump_sum'"
_UNITS = "'day', 'week', 'month', 'person', 'course', 'trip', 'session', 'lump_sum'"
_ONE_OFF = (
    "type IN ('health_insurance', 'initial_allowance') "
    "AND status IN ('requested', 'approved', 'delivered')"
)
_RANKED = f"""
SELECT id, status, row_number() OVER (
    PARTITION BY person_id, type
    ORDER BY CASE status WHEN 'delivered' THEN 0 WHEN 'approved' THEN 1 ELSE 2 END,
             created_at, id
) AS n
FROM support_services WHERE {_ONE_OFF}
"""


def _units(condition: str) -> None:
    for table in ("support_rates", "support_services"):
        op.drop_constraint(op.f(f"ck_{table}_unit"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_unit"), table, f"unit IN ({condition})")


def upgrade() -> None:
    _units(_UNITS)
    op.add_column(
        "support_services",
        sa.Column("actual_cost", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("support_services", sa.Column("receipt_date", sa.Date(), nullable=True))
    op.add_column("support_services", sa.Column("receipt_number", sa.LargeBinary(), nullable=True))
    op.add_column("support_services", sa.Column("receipt_issuer", sa.LargeBinary(), nullable=True))
    op.create_check_constraint(
        op.f("ck_support_services_receipt"),
        "support_services",
        "NOT actual_cost OR (receipt_date IS NOT NULL AND receipt_number IS NOT NULL "
        "AND receipt_issuer IS NOT NULL)",
    )
    paid_twice = op.get_bind().execute(
        sa.text(f"SELECT count(*) FROM ({_RANKED}) r WHERE n > 1 AND status = 'delivered'")
    )
    if paid_twice.scalar_one():
        raise RuntimeError(
            "A one-off support (initial allowance or health insurance) was delivered more "
            "than once to one person; resolve those rows before this migration."
        )
    op.execute(
        f"UPDATE support_services s SET status = 'cancelled', cancelled_at = now(), "
        f"version = s.version + 1 FROM ({_RANKED}) r WHERE s.id = r.id AND r.n > 1"
    )
    op.create_index(
        "ux_support_services_one_off",
        "support_services",
        ["person_id", "type"],
        unique=True,
        postgresql_where=sa.text(_ONE_OFF),
    )
    op.execute(
        "UPDATE agency_kinds SET functions = array_append(functions, 'extend_care') "
        "WHERE code = 'social_affairs' AND NOT 'extend_care' = ANY(functions)"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE agency_kinds SET functions = array_remove(functions, 'extend_care') "
        "WHERE code = 'social_affairs'"
    )
    op.drop_index("ux_support_services_one_off", table_name="support_services")
    # The older schema knows an amount without a rate only as a supervisor's override.
    op.execute("UPDATE support_services SET amount_overridden = true WHERE actual_cost")
    op.drop_constraint(op.f("ck_support_services_receipt"), "support_services", type_="check")
    for column in ("receipt_issuer", "receipt_number", "receipt_date", "actual_cost"):
        op.drop_column("support_services", column)
    weekly_rates = op.get_bind().execute(
        sa.text("SELECT count(*) FROM support_rates WHERE unit = 'week'")
    )
    if weekly_rates.scalar_one():
        raise RuntimeError("Rates per week have no older unit; remove them before downgrading.")
    # A service given by the week is the same days by the day.
    op.execute(
        "UPDATE support_services SET unit = 'day', quantity = quantity * 7 WHERE unit = 'week'"
    )
    _units(_OLD_UNITS)
