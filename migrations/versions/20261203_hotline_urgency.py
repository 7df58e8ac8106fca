"""Hotline urgency: a report in immediate danger has a response deadline
(`respond_by`), every report records when it was first answered (`responded_at`:
triaged, forwarded or closed), a partial index serves the overdue list, and the
webhook event `hotline_report.created`

Revision ID: 20261203_hotline_urgency
Revises: 20261203_case_persons_kinds
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_hotline_urgency"
down_revision: str | None = "20261203_case_persons_kinds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_hotline_reports_awaiting_response"
# The default of VCM_HOTLINE_IMMEDIATE_DANGER_RESPONSE_MINUTES, for the reports that
# exist already (a migration does not read the settings).
_DEFAULT_MINUTES = 60
_OLD_EVENTS = ("referral.created", "referral.accepted", "referral.waitlisted",
               "referral.rejected", "referral.completed", "case.transferred",
               "participant.added", "participant.removed")  # fmt: skip
_EVENTS = (*_OLD_EVENTS, "hotline_report.created")


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _recheck_events(events: tuple[str, ...]) -> None:
    name = op.f("ck_webhook_events_type")
    op.drop_constraint(name, "webhook_events", type_="check")
    op.create_check_constraint(name, "webhook_events", f"event_type IN ({_in(*events)})")


def upgrade() -> None:
    op.add_column("hotline_reports", sa.Column("respond_by", sa.DateTime(timezone=True)))
    op.add_column("hotline_reports", sa.Column("responded_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE hotline_reports SET respond_by = received_at + make_interval(mins => "
        f"{_DEFAULT_MINUTES}) WHERE urgency = 'immediate_danger'"
    )
    # A report triaged before this column existed was answered; its last triage time
    # is the best record left of when.
    op.execute(
        "UPDATE hotline_reports SET responded_at = coalesce(triaged_at, updated_at) "
        "WHERE status <> 'open'"
    )
    op.create_index(
        _INDEX,
        "hotline_reports",
        ["owner_agency_id", "respond_by"],
        postgresql_where=sa.text("respond_by IS NOT NULL AND responded_at IS NULL"),
    )
    _recheck_events(_EVENTS)


def downgrade() -> None:
    # The old constraint cannot hold events of the new type: they go, with their
    # deliveries and attempts.
    op.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id FROM "
        "webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
        "WHERE e.event_type = 'hotline_report.created')"
    )
    op.execute(
        "DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM webhook_events "
        "WHERE event_type = 'hotline_report.created')"
    )
    op.execute("DELETE FROM webhook_events WHERE event_type = 'hotline_report.created'")
    _recheck_events(_OLD_EVENTS)
    op.drop_index(_INDEX, table_name="hotline_reports")
    op.drop_column("hotline_reports", "responded_at")
    op.drop_column("hotline_reports", "respond_by")
