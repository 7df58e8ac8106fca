"""Persons added to a case after intake: people who help and witnesses as person kinds,
case roles and protected persons; the age estimate of a person of a case and whether
they were under 18 when added, with what that rests on

Revision ID: 20261203_case_persons_kinds
Revises: 20261203_first_days
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_case_persons_kinds"
down_revision: str | None = "20261203_first_days"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


_OLD_KINDS = ("victim", "minor", "relative", "hotline_caller", "reported_person")
_KINDS = ("victim", "minor", "relative", "helper", "witness", "hotline_caller",
          "reported_person")  # fmt: skip
_OLD_ROLES = ("victim", "minor", "relative")
_ROLES = (*_OLD_ROLES, "helper", "witness")
_AGE_BASES = ("date_of_birth", "estimate", "presumed_minor")


def _recheck(table: str, name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, condition)


def upgrade() -> None:
    _recheck("persons", "kind", f"kind IN ({_in(*_KINDS)})")
    _recheck("case_persons", "role", f"role IN ({_in(*_ROLES)})")
    _recheck("protection_measures", "protected_person", f"protected_person IN ({_in(*_ROLES)})")
    op.add_column("case_persons", sa.Column("age_estimate", sa.SmallInteger(), nullable=True))
    op.add_column("case_persons", sa.Column("is_minor", sa.Boolean(), nullable=True))
    op.add_column("case_persons", sa.Column("age_basis", sa.String(length=16), nullable=True))
    op.create_check_constraint(
        op.f("ck_case_persons_age_estimate"), "case_persons", "age_estimate BETWEEN 0 AND 120"
    )
    op.create_check_constraint(
        op.f("ck_case_persons_age_basis"), "case_persons", f"age_basis IN ({_in(*_AGE_BASES)})"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_case_persons_age_basis"), "case_persons", type_="check")
    op.drop_constraint(op.f("ck_case_persons_age_estimate"), "case_persons", type_="check")
    op.drop_column("case_persons", "age_basis")
    op.drop_column("case_persons", "is_minor")
    op.drop_column("case_persons", "age_estimate")
    # The older schema knows no helper or witness: they go back as relatives (the
    # nearest kind it protects), so the downgrade keeps every person and measure.
    op.execute(
        "UPDATE protection_measures SET protected_person = 'relative' "
        "WHERE protected_person IN ('helper', 'witness')"
    )
    op.execute("UPDATE case_persons SET role = 'relative' WHERE role IN ('helper', 'witness')")
    op.execute("UPDATE persons SET kind = 'relative' WHERE kind IN ('helper', 'witness')")
    _recheck("protection_measures", "protected_person", f"protected_person IN ({_in(*_OLD_ROLES)})")
    _recheck("case_persons", "role", f"role IN ({_in(*_OLD_ROLES)})")
    _recheck("persons", "kind", f"kind IN ({_in(*_OLD_KINDS)})")
