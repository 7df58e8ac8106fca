"""integration_clients

Revision ID: 20261123_integration_clients
Revises: 20261123_webhooks
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_integration_clients"
down_revision: str | None = "20261123_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fixed here, not imported: a migration must keep meaning what it meant when written.
_ALLOWED = "'agencies:read', 'cases:read', 'referrals:read', 'referrals:write'"


def upgrade() -> None:
    op.create_table(
        "integration_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "cardinality(scopes) > 0", name=op.f("ck_integration_clients_scopes_not_empty")
        ),
        sa.CheckConstraint(
            f"scopes <@ ARRAY[{_ALLOWED}]::varchar[]",
            name=op.f("ck_integration_clients_scopes_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_integration_clients_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_clients")),
    )
    op.create_index(op.f("ix_integration_clients_agency_id"), "integration_clients", ["agency_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_integration_clients_agency_id"), table_name="integration_clients")
    op.drop_table("integration_clients")
