"""Break-glass: emergency reads of a case outside the reader's access (reason and
the auditor's note sealed under the victim's data key, a time limit, the auditor's
verdict), the `emergency_access` function of police and hotline agencies, as data,
and the webhook event `case.break_glass`

Revision ID: 20261203_break_glass
Revises: 20261203_support_money
Create Date: 2026-12-03 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261203_break_glass"
down_revision: str | None = "20261203_support_money"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "break_glass"
_KINDS = ("police", "hotline")
_EVENT = "case.break_glass"
_OLD_EVENTS = ("referral.created", "referral.accepted", "referral.waitlisted",
               "referral.rejected", "referral.completed", "case.transferred",
               "participant.added", "participant.removed",
               "hotline_report.created", "user.login_burst",
               "integration_client.login_burst")  # fmt: skip


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _recheck_events(events: tuple[str, ...]) -> None:
    name = op.f("ck_webhook_events_type")
    op.drop_constraint(name, "webhook_events", type_="check")
    op.create_check_constraint(name, "webhook_events", f"event_type IN ({_in(*events)})")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("reason", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("verdict", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("review_note", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "verdict IS NULL OR verdict IN ('justified', 'unjustified')",
            name=op.f("ck_break_glass_verdict"),
        ),
        sa.CheckConstraint(
            "(verdict IS NULL) = (reviewed_at IS NULL) "
            "AND (verdict IS NULL) = (reviewed_by IS NULL)",
            name=op.f("ck_break_glass_reviewed"),
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_break_glass_expires_after_created")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], ondelete="CASCADE", name=op.f("fk_break_glass_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_break_glass_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_break_glass_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name=op.f("fk_break_glass_reviewed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass")),
    )
    op.create_index(
        "ix_break_glass_user_case_expires", TABLE, ["user_id", "case_id", "expires_at"]
    )
    op.create_index(
        "ix_break_glass_unreviewed",
        TABLE,
        ["created_at"],
        postgresql_where=sa.text("reviewed_at IS NULL"),
    )
    op.create_index("ix_break_glass_case", TABLE, ["case_id"])
    op.execute(
        "UPDATE agency_kinds SET functions = array_append(functions, 'emergency_access') "
        f"WHERE code IN ({_in(*_KINDS)}) AND NOT 'emergency_access' = ANY(functions)"
    )
    _recheck_events((*_OLD_EVENTS, _EVENT))


def downgrade() -> None:
    # The old constraint cannot hold events of the new type: they go, with their
    # deliveries and attempts.
    op.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM "
        "webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
        f"WHERE e.event_type = '{_EVENT}')"
    )
    op.execute(
        "DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM webhook_events "
        f"WHERE event_type = '{_EVENT}')"
    )
    op.execute(f"DELETE FROM webhook_events WHERE event_type = '{_EVENT}'")
    _recheck_events(_OLD_EVENTS)
    op.execute(
        "UPDATE agency_kinds SET functions = array_remove(functions, 'emergency_access') "
        f"WHERE code IN ({_in(*_KINDS)})"
    )
    op.drop_index("ix_break_glass_case", table_name=TABLE)
    op.drop_index("ix_break_glass_unreviewed", table_name=TABLE)
    op.drop_index("ix_break_glass_user_case_expires", table_name=TABLE)
    op.drop_table(TABLE)
