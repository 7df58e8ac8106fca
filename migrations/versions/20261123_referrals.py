"""referrals

Revision ID: 20261123_referrals
Revises: 20261123_reporting
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_referrals"
down_revision: str | None = "20261123_reporting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PURPOSES = "'support', 'investigation', 'protection', 'repatriation', 'transfer'"
_STATUSES = "'pending', 'accepted', 'rejected', 'completed', 'cancelled', 'expired'"
_BASES = "'consent', 'investigation', 'emergency'"
_TYPES = (
    "'essential_needs', 'medical', 'interpretation', 'legal_support', 'legal_aid', "
    "'travel', 'psychological', 'schooling', 'vocational', 'initial_allowance', 'loan', "
    "'health_insurance'"
)


def _string(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("from_agency_id", sa.Uuid(), nullable=False),
        sa.Column("to_agency_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", _string(16), nullable=False),
        sa.Column("services", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("shared_fields", postgresql.ARRAY(sa.String(length=48)), nullable=False),
        sa.Column("legal_basis", _string(16), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=True),
        sa.Column("status", _string(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=True),
        sa.Column("emergency_reason", sa.LargeBinary(), nullable=True),
        sa.Column("reason", sa.LargeBinary(), nullable=True),
        sa.Column("outcome", sa.LargeBinary(), nullable=True),
        sa.Column("services_delivered", postgresql.ARRAY(sa.String(length=32)), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_by_type", _string(16), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_by_type", _string(16), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("closed_by_type", _string(16), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"purpose IN ({_PURPOSES})", name=op.f("ck_referrals_purpose")),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_referrals_status")),
        sa.CheckConstraint(f"legal_basis IN ({_BASES})", name=op.f("ck_referrals_legal_basis")),
        sa.CheckConstraint(
            "(legal_basis = 'consent') = (consent_id IS NOT NULL)",
            name=op.f("ck_referrals_consent_basis"),
        ),
        sa.CheckConstraint(
            "from_agency_id <> to_agency_id", name=op.f("ck_referrals_distinct_agencies")
        ),
        sa.CheckConstraint(
            f"services <@ ARRAY[{_TYPES}]::varchar[]", name=op.f("ck_referrals_services_known")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_referrals_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["case_consents.id"],
            name=op.f("fk_referrals_consent_id_case_consents"),
        ),
        sa.ForeignKeyConstraint(
            ["from_agency_id"], ["agencies.id"], name=op.f("fk_referrals_from_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["to_agency_id"], ["agencies.id"], name=op.f("fk_referrals_to_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    op.create_index(op.f("ix_referrals_case_id"), "referrals", ["case_id"], unique=False)
    op.create_index(
        "ix_referrals_to_agency", "referrals", ["to_agency_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_referrals_from_agency", "referrals", ["from_agency_id", "created_at"], unique=False
    )
    op.create_index("ix_referrals_status_due", "referrals", ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_referrals_status_due", table_name="referrals")
    op.drop_index("ix_referrals_from_agency", table_name="referrals")
    op.drop_index("ix_referrals_to_agency", table_name="referrals")
    op.drop_index(op.f("ix_referrals_case_id"), table_name="referrals")
    op.drop_table("referrals")
