"""support services

Revision ID: 20261123_support_services
Revises: 20261123_case_records
Create Date: 2026-11-23 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261123_support_services"
down_revision: str | None = "20261123_case_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TYPES = (
    "'essential_needs', 'medical', 'interpretation', 'legal_support', 'legal_aid', "
    "'travel', 'psychological', 'schooling', 'vocational', 'initial_allowance', 'loan', "
    "'health_insurance'"
)
_UNITS = "'day', 'month', 'person', 'course', 'trip', 'session', 'lump_sum'"
_STATUSES = "'requested', 'approved', 'delivered', 'rejected', 'cancelled'"


def upgrade() -> None:
    # btree_gist lets one exclusion constraint mix equality (province, type, unit)
    # with date-range overlap: two rates of one key in force on the same day are
    # refused by the database itself, whatever the application does.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "support_rates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("max_units", sa.Integer(), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("legal_basis", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(f"type IN ({_TYPES})", name=op.f("ck_support_rates_type")),
        sa.CheckConstraint(f"unit IN ({_UNITS})", name=op.f("ck_support_rates_unit")),
        sa.CheckConstraint("amount_vnd > 0", name=op.f("ck_support_rates_amount_positive")),
        sa.CheckConstraint(
            "max_units IS NULL OR max_units > 0", name=op.f("ck_support_rates_max_units_positive")
        ),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from",
            name=op.f("ck_support_rates_effective_range"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_support_rates_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_support_rates_province_code_provinces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_rates")),
    )
    op.create_index(
        "ix_support_rates_lookup",
        "support_rates",
        ["type", "province_code", "effective_from"],
        unique=False,
    )
    op.execute(
        "ALTER TABLE support_rates ADD CONSTRAINT ex_support_rates_no_overlap "
        "EXCLUDE USING gist (coalesce(province_code, '') WITH =, type WITH =, unit WITH =, "
        "daterange(effective_from, effective_to, '[]') WITH &&)"
    )
    op.create_table(
        "support_services",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("provider_agency_id", sa.Uuid(), nullable=True),
        sa.Column("rate_id", sa.Uuid(), nullable=True),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("amount_overridden", sa.Boolean(), nullable=False),
        sa.Column("cap_extended", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("override_reason", sa.LargeBinary(), nullable=True),
        sa.Column("extension_reason", sa.LargeBinary(), nullable=True),
        sa.Column("decision_reason", sa.LargeBinary(), nullable=True),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(f"type IN ({_TYPES})", name=op.f("ck_support_services_type")),
        sa.CheckConstraint(f"unit IN ({_UNITS})", name=op.f("ck_support_services_unit")),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_support_services_status")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_support_services_quantity_positive")),
        sa.CheckConstraint("amount_vnd >= 0", name=op.f("ck_support_services_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            ondelete="CASCADE",
            name=op.f("fk_support_services_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_support_services_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_support_services_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["provider_agency_id"],
            ["agencies.id"],
            name=op.f("fk_support_services_provider_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["rate_id"],
            ["support_rates.id"],
            name=op.f("fk_support_services_rate_id_support_rates"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_support_services_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_services")),
    )
    op.create_index(
        "ix_support_services_case_person",
        "support_services",
        ["case_id", "person_id", "type"],
        unique=False,
    )
    op.create_index(
        op.f("ix_support_services_person_id"), "support_services", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_support_services_person_id"), table_name="support_services")
    op.drop_index("ix_support_services_case_person", table_name="support_services")
    op.drop_table("support_services")
    op.drop_index("ix_support_rates_lookup", table_name="support_rates")
    op.drop_table("support_rates")
    # btree_gist stays: other schemas may use it, and it holds no data.
