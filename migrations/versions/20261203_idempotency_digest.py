"""Idempotency keys keep what a replay needs (status, resource id, where to read it
again, the request's digest), not the response body, which held masked identity and
case numbers; existing bodies are dropped, their resource id kept. An index on
`created_at` serves the purge after the retention window.

Revision ID: 20261203_idempotency_digest
Revises: 20261203_break_glass
Create Date: 2026-12-03 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_idempotency_digest"
down_revision: str | None = "20261203_break_glass"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "idempotency_keys"
_UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("resource_id", sa.Uuid(), nullable=True))
    op.add_column(
        TABLE, sa.Column("location", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True)
    )
    op.execute(
        sa.text(
            f"UPDATE {TABLE} SET resource_id = (response_body->>'id')::uuid "
            "WHERE response_body->>'id' ~ :uuid"
        ).bindparams(uuid=_UUID)
    )
    op.drop_column(TABLE, "response_body")
    op.create_index("ix_idempotency_keys_created_at", TABLE, ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name=TABLE)
    op.add_column(
        TABLE,
        sa.Column(
            "response_body",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    op.execute(
        sa.text(
            f"UPDATE {TABLE} SET response_body = jsonb_build_object('id', resource_id::text) "
            "WHERE resource_id IS NOT NULL"
        )
    )
    op.alter_column(TABLE, "response_body", server_default=None)
    op.drop_column(TABLE, "location")
    op.drop_column(TABLE, "resource_id")
