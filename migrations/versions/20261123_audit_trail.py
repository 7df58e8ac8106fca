"""audit trail

Revision ID: 20261123_audit_trail
Revises: 20261123_foundation
Create Date: 2026-11-23 09:45:00
"""

from collections.abc import Sequence

revision: str = "20261123_audit_trail"
down_revision: str | None = "20261123_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
