"""case records

Revision ID: 20261123_case_records
Revises: 20261123_hotline_reports
Create Date: 2026-11-23 10:30:00
"""

from collections.abc import Sequence

revision: str = "20261123_case_records"
down_revision: str | None = "20261123_hotline_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
