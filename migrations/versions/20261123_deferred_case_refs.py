"""case_persons.case_id and case_timeline.case_id are checked at commit (deferred):
intake writes a case's persons and timeline before the case itself, so that the case
number's counter row is locked only for the case's own INSERT and the commit

Revision ID: 20261123_deferred_case_refs
Revises: 20261123_delivered_support_types
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261123_deferred_case_refs"
down_revision: str | None = "20261123_delivered_support_types"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONSTRAINTS = (
    ("case_persons", "fk_case_persons_case_id_cases"),
    ("case_timeline", "fk_case_timeline_case_id_cases"),
)


def upgrade() -> None:
    for table, name in _CONSTRAINTS:
        op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT {name} DEFERRABLE INITIALLY DEFERRED")


def downgrade() -> None:
    for table, name in _CONSTRAINTS:
        op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT {name} NOT DEFERRABLE")
