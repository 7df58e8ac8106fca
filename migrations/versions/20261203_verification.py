"""The initial verification record (case_verifications, one per case) and
cases.verified_at: only the record meets the 3-day initial-verification deadline, so
cases moved to `verifying` without one are due again three days after intake

Revision ID: 20261203_verification
Revises: 20261203_hotline_urgency
Create Date: 2026-12-03 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_verification"
down_revision: str | None = "20261203_hotline_urgency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "case_verifications"
# The law's three days (the setting VCM_DEADLINE_INITIAL_VERIFICATION_DAYS defaults to it).
_DUE = "received_at + interval '3 days'"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "outcome IN ('grounds_found', 'no_grounds', 'inconclusive')",
            name=op.f("ck_case_verifications_outcome"),
        ),
        sa.CheckConstraint(
            "cardinality(agency_ids) > 0", name=op.f("ck_case_verifications_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_case_verifications_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            ondelete="CASCADE",
            name=op.f("fk_case_verifications_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_case_verifications_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_verifications")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_verifications_case_id")),
    )
    op.create_index(
        op.f("ix_case_verifications_completed_at"), _TABLE, ["completed_at"], unique=False
    )
    op.add_column("cases", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    # No case has a record yet: a case moved to `verifying` has not been verified, so
    # its initial-verification deadline is pending again (and overdue once passed).
    op.execute(
        f"UPDATE cases SET next_due_at = {_DUE} "  # noqa: S608 (constants)
        f"WHERE status = 'verifying' AND (next_due_at IS NULL OR next_due_at > {_DUE})"
    )


def downgrade() -> None:
    # The old rule: the status alone decides; a `received` case is due in three days.
    op.execute(f"UPDATE cases SET next_due_at = {_DUE} WHERE status = 'received'")  # noqa: S608
    op.drop_column("cases", "verified_at")
    op.drop_index(op.f("ix_case_verifications_completed_at"), table_name=_TABLE)
    op.drop_table(_TABLE)
