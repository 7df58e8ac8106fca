"""cases.victim_person_id is unique: a victim person belongs to one case (intake makes
a new person for every case, and a person's key and erasure are that case's); until
now only by construction

Revision ID: 20261203_one_case_per_victim
Revises: 20261123_deferred_case_refs
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261203_one_case_per_victim"
down_revision: str | None = "20261123_deferred_case_refs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_cases_victim_person_id"


def upgrade() -> None:
    op.drop_index(_INDEX, table_name="cases")
    op.create_index(_INDEX, "cases", ["victim_person_id"], unique=True)


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="cases")
    op.create_index(_INDEX, "cases", ["victim_person_id"], unique=False)
