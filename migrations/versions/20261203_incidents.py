"""Personal-data incidents and their notifications (the description sealed under
the incident's own data key, wrapped by the KEK), and the webhook event
`incident.overdue`

Revision ID: 20261203_incidents
Revises: 20261203_idempotency_digest
Create Date: 2026-12-03 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261203_incidents"
down_revision: str | None = "20261203_idempotency_digest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENT = "incident.overdue"
_OLD_EVENTS = ("referral.created", "referral.accepted", "referral.waitlisted",
               "referral.rejected", "referral.completed", "case.transferred",
               "participant.added", "participant.removed",
               "hotline_report.created", "user.login_burst",
               "integration_client.login_burst", "case.break_glass")  # fmt: skip


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _recheck_events(events: tuple[str, ...]) -> None:
    name = op.f("ck_webhook_events_type")
    op.drop_constraint(name, "webhook_events", type_="check")
    op.create_check_constraint(name, "webhook_events", f"event_type IN ({_in(*events)})")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        _timestamp("detected_at"),
        sa.Column("nature", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("persons_affected", sa.Integer(), nullable=False),
        sa.Column("description", sa.LargeBinary(), nullable=False),
        sa.Column("description_kek_version", sa.Integer(), nullable=False),
        sa.Column("description_key_wrapped", sa.LargeBinary(), nullable=False),
        _timestamp("notify_by"),
        _timestamp("overdue_announced_at", nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "nature IN ('availability', 'confidentiality', 'integrity')",
            name=op.f("ck_incidents_nature"),
        ),
        sa.CheckConstraint(
            "severity IN ('critical', 'high', 'low', 'medium')",
            name=op.f("ck_incidents_severity"),
        ),
        sa.CheckConstraint("persons_affected >= 0", name=op.f("ck_incidents_persons_affected")),
        sa.CheckConstraint(
            "notify_by >= detected_at", name=op.f("ck_incidents_notify_after_detection")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_incidents_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_incidents_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("ix_incidents_agency_detected", "incidents", ["agency_id", "detected_at"])
    op.create_index(
        "ix_incidents_unannounced",
        "incidents",
        ["notify_by"],
        postgresql_where=sa.text("overdue_announced_at IS NULL"),
    )
    op.create_table(
        "incident_notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        _timestamp("notified_at"),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "recipient IN ('authority', 'persons')",
            name=op.f("ck_incident_notifications_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            ondelete="CASCADE",
            name=op.f("fk_incident_notifications_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_incident_notifications_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_notifications")),
    )
    op.create_index(
        op.f("ix_incident_notifications_incident_id"),
        "incident_notifications",
        ["incident_id"],
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
    op.drop_index(op.f("ix_incident_notifications_incident_id"), table_name="incident_notifications")
    op.drop_table("incident_notifications")
    op.drop_index("ix_incidents_unannounced", table_name="incidents")
    op.drop_index("ix_incidents_agency_detected", table_name="incidents")
    op.drop_table("incidents")
