"""cases.delivered_support_types: the support types delivered to a case so far, kept by
a trigger on support_services, so reports count persons per support type without
joining a million services; and the index the case list pages along

Revision ID: 20261123_delivered_support_types
Revises: 20261123_integration_clients
Create Date: 2026-11-23 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_delivered_support_types"
down_revision: str | None = "20261123_integration_clients"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DELIVERED_TYPES_FUNCTION = """
CREATE FUNCTION cases_delivered_support_types() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases c SET delivered_support_types = t.types
    FROM (
        SELECT s.case_id, array_agg(DISTINCT s.type ORDER BY s.type) AS types
        FROM support_services s
        WHERE s.status = 'delivered'
          AND s.case_id IN (SELECT case_id FROM new_rows WHERE status = 'delivered')
        GROUP BY s.case_id
    ) t
    WHERE c.id = t.case_id AND c.delivered_support_types IS DISTINCT FROM t.types;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_index("ix_cases_created_id", "cases", ["created_at", "id"], unique=False)
    op.add_column(
        "cases",
        sa.Column(
            "delivered_support_types",
            sa.ARRAY(sa.String(length=32)),
            nullable=False,
            server_default="{}",
        ),
    )
    # Statement-level, with transition tables: a bulk insert of services updates each
    # case once, in one set-based pass; a single delivery updates its one case.
    op.execute(_DELIVERED_TYPES_FUNCTION)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER support_services_delivered_types_{event.lower()} "
            f"AFTER {event} ON support_services REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION cases_delivered_support_types()"
        )
    op.execute(
        "UPDATE cases c SET delivered_support_types = t.types FROM ("
        " SELECT case_id, array_agg(DISTINCT type ORDER BY type) AS types"
        " FROM support_services WHERE status = 'delivered' GROUP BY case_id) t"
        " WHERE c.id = t.case_id"
    )


def downgrade() -> None:
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER support_services_delivered_types_{event} ON support_services")
    op.execute("DROP FUNCTION cases_delivered_support_types()")
    op.drop_column("cases", "delivered_support_types")
    op.drop_index("ix_cases_created_id", table_name="cases")
