"""Webhook events for clients: `case.created`, `case.status_changed`, `case.overdue`
(with the deadline last announced on each case, so it is announced once per deadline),
`hotline_report.forwarded` and the test event `webhook.ping`; redeliveries (a delivery
may repeat an earlier one of the same event and endpoint) and the delivery log's index

Revision ID: 20261203_webhook_events_more
Revises: 20261203_data_requests
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_webhook_events_more"
down_revision: str | None = "20261203_data_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELIVERIES = "webhook_deliveries"
_NEW_EVENTS = ("case.created", "case.status_changed", "case.overdue",
               "hotline_report.forwarded", "webhook.ping")  # fmt: skip
_OLD_EVENTS = ("referral.created", "referral.accepted", "referral.waitlisted",
               "referral.rejected", "referral.completed", "case.transferred",
               "participant.added", "participant.removed",
               "hotline_report.created", "user.login_burst",
               "integration_client.login_burst", "case.break_glass",
               "incident.overdue", "data_request.overdue")  # fmt: skip


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _recheck_events(events: tuple[str, ...]) -> None:
    name = op.f("ck_webhook_events_type")
    op.drop_constraint(name, "webhook_events", type_="check")
    op.create_check_constraint(name, "webhook_events", f"event_type IN ({_in(*events)})")


def upgrade() -> None:
    op.add_column(
        "cases", sa.Column("overdue_announced_for", sa.DateTime(timezone=True), nullable=True)
    )
    _recheck_events((*_OLD_EVENTS, *_NEW_EVENTS))
    op.drop_constraint(op.f("uq_webhook_deliveries_event_endpoint"), DELIVERIES, type_="unique")
    op.add_column(DELIVERIES, sa.Column("redelivery_of_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_webhook_deliveries_redelivery_of_id_webhook_deliveries"),
        DELIVERIES,
        DELIVERIES,
        ["redelivery_of_id"],
        ["id"],
    )
    op.create_index("ix_webhook_deliveries_event_id", DELIVERIES, ["event_id"])
    op.drop_index("ix_webhook_deliveries_endpoint_id", table_name=DELIVERIES)
    op.create_index(
        "ix_webhook_deliveries_endpoint_created", DELIVERIES, ["endpoint_id", "created_at"]
    )


def downgrade() -> None:
    # Redeliveries and the new events' rows go (the unique pair and the older CHECK
    # could not hold them), with their attempts.
    gone = (
        f"SELECT d.id FROM {DELIVERIES} d JOIN webhook_events e ON e.id = d.event_id "
        f"WHERE e.event_type IN ({_in(*_NEW_EVENTS)}) OR d.redelivery_of_id IS NOT NULL"
    )
    op.execute(f"DELETE FROM webhook_attempts WHERE delivery_id IN ({gone})")
    op.execute(
        f"DELETE FROM {DELIVERIES} WHERE redelivery_of_id IS NOT NULL OR event_id IN "
        f"(SELECT id FROM webhook_events WHERE event_type IN ({_in(*_NEW_EVENTS)}))"
    )
    op.execute(f"DELETE FROM webhook_events WHERE event_type IN ({_in(*_NEW_EVENTS)})")
    op.execute(
        "UPDATE webhook_endpoints SET events = ARRAY(SELECT x FROM unnest(events) x "
        f"WHERE x NOT IN ({_in(*_NEW_EVENTS)}))::varchar(40)[]"
    )
    op.drop_index("ix_webhook_deliveries_endpoint_created", table_name=DELIVERIES)
    op.create_index("ix_webhook_deliveries_endpoint_id", DELIVERIES, ["endpoint_id"])
    op.drop_index("ix_webhook_deliveries_event_id", table_name=DELIVERIES)
    op.drop_constraint(
        op.f("fk_webhook_deliveries_redelivery_of_id_webhook_deliveries"),
        DELIVERIES,
        type_="foreignkey",
    )
    op.drop_column(DELIVERIES, "redelivery_of_id")
    op.create_unique_constraint(
        op.f("uq_webhook_deliveries_event_endpoint"), DELIVERIES, ["event_id", "endpoint_id"]
    )
    _recheck_events(_OLD_EVENTS)
    op.drop_column("cases", "overdue_announced_for")
