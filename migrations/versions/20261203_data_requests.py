"""Rights of the person: the register of data subjects' requests (note, outcome and
reason sealed under the person's data key; deadlines as Vietnam dates), the calendar
of public holidays 2025-2027 their working days count on (2027 unconfirmed), and the
webhook event `data_request.overdue`, and the restriction flag on persons

Revision ID: 20261203_data_requests
Revises: 20261203_incidents
Create Date: 2026-12-03 22:00:00
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261203_data_requests"
down_revision: str | None = "20261203_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "data_requests"
HOLIDAYS = "public_holidays"
_EVENT = "data_request.overdue"
_OLD_EVENTS = ("referral.created", "referral.accepted", "referral.waitlisted",
               "referral.rejected", "referral.completed", "case.transferred",
               "participant.added", "participant.removed",
               "hotline_report.created", "user.login_burst",
               "integration_client.login_burst", "case.break_glass",
               "incident.overdue")  # fmt: skip

# (day, name, confirmed): the Labour Code 2019 art. 111-112 and the Ministry of Home
# Affairs' yearly notices; 2027 from the lunar calendar, to be confirmed.
_HOLIDAYS = [
    ("2025-01-01", "Tết Dương lịch", True),
    ("2025-01-25", "Tết Nguyên đán", True),
    ("2025-01-26", "Tết Nguyên đán", True),
    ("2025-01-27", "Tết Nguyên đán", True),
    ("2025-01-28", "Tết Nguyên đán", True),
    ("2025-01-29", "Tết Nguyên đán", True),
    ("2025-01-30", "Tết Nguyên đán", True),
    ("2025-01-31", "Tết Nguyên đán", True),
    ("2025-02-01", "Tết Nguyên đán", True),
    ("2025-02-02", "Tết Nguyên đán", True),
    ("2025-04-07", "Giỗ Tổ Hùng Vương", True),
    ("2025-04-30", "Ngày Chiến thắng", True),
    ("2025-05-01", "Ngày Quốc tế Lao động", True),
    ("2025-09-01", "Quốc khánh", True),
    ("2025-09-02", "Quốc khánh", True),
    ("2026-01-01", "Tết Dương lịch", True),
    ("2026-02-14", "Tết Nguyên đán", True),
    ("2026-02-15", "Tết Nguyên đán", True),
    ("2026-02-16", "Tết Nguyên đán", True),
    ("2026-02-17", "Tết Nguyên đán", True),
    ("2026-02-18", "Tết Nguyên đán", True),
    ("2026-02-19", "Tết Nguyên đán", True),
    ("2026-02-20", "Tết Nguyên đán", True),
    ("2026-02-21", "Tết Nguyên đán", True),
    ("2026-02-22", "Tết Nguyên đán", True),
    ("2026-04-26", "Giỗ Tổ Hùng Vương", True),
    ("2026-04-27", "Nghỉ bù", True),
    ("2026-04-30", "Ngày Chiến thắng", True),
    ("2026-05-01", "Ngày Quốc tế Lao động", True),
    ("2026-09-01", "Quốc khánh", False),
    ("2026-09-02", "Quốc khánh", True),
    ("2027-01-01", "Tết Dương lịch", True),
    ("2027-02-05", "Tết Nguyên đán", False),
    ("2027-02-06", "Tết Nguyên đán", False),
    ("2027-02-07", "Tết Nguyên đán", False),
    ("2027-02-08", "Tết Nguyên đán", False),
    ("2027-02-09", "Tết Nguyên đán", False),
    ("2027-02-10", "Tết Nguyên đán", False),
    ("2027-02-11", "Tết Nguyên đán", False),
    ("2027-02-12", "Tết Nguyên đán", False),
    ("2027-02-13", "Tết Nguyên đán", False),
    ("2027-04-16", "Giỗ Tổ Hùng Vương", False),
    ("2027-04-30", "Ngày Chiến thắng", True),
    ("2027-05-01", "Ngày Quốc tế Lao động", True),
    ("2027-05-03", "Nghỉ bù", True),
    ("2027-09-02", "Quốc khánh", True),
    ("2027-09-03", "Quốc khánh", False),
]


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _recheck_events(events: tuple[str, ...]) -> None:
    name = op.f("ck_webhook_events_type")
    op.drop_constraint(name, "webhook_events", type_="check")
    op.create_check_constraint(name, "webhook_events", f"event_type IN ({_in(*events)})")


def upgrade() -> None:
    holidays = op.create_table(
        HOLIDAYS,
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_public_holidays")),
    )
    op.bulk_insert(
        holidays,
        [
            {"day": date.fromisoformat(day), "name": name, "confirmed": confirmed}
            for day, name, confirmed in _HOLIDAYS
        ],
    )
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("requester", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("identity_checked", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledge_by", sa.Date(), nullable=False),
        sa.Column("complete_by", sa.Date(), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.LargeBinary(), nullable=True),
        sa.Column("reason", sa.LargeBinary(), nullable=True),
        sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('access', 'consent_withdrawal', 'erasure', 'objection', "
            "'rectification', 'restriction')",
            name=op.f("ck_data_requests_kind"),
        ),
        sa.CheckConstraint(
            "requester IN ('legal_representative', 'self')",
            name=op.f("ck_data_requests_requester"),
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'hotline', 'in_person', 'letter', 'other', 'phone')",
            name=op.f("ck_data_requests_channel"),
        ),
        sa.CheckConstraint(
            "status IN ('completed', 'open', 'rejected')", name=op.f("ck_data_requests_status")
        ),
        sa.CheckConstraint(
            "(status = 'open') = (closed_at IS NULL)", name=op.f("ck_data_requests_closed")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            ondelete="CASCADE",
            name=op.f("fk_data_requests_case_id_cases"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_data_requests_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_data_requests_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_data_requests_closed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_requests")),
    )
    op.create_index("ix_data_requests_case", TABLE, ["case_id"])
    op.create_index("ix_data_requests_person", TABLE, ["person_id"])
    op.create_index(
        "ix_data_requests_open_due",
        TABLE,
        ["complete_by"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.add_column("persons", sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=True))
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
    op.drop_column("persons", "restricted_at")
    op.drop_index("ix_data_requests_open_due", table_name=TABLE)
    op.drop_index("ix_data_requests_person", table_name=TABLE)
    op.drop_index("ix_data_requests_case", table_name=TABLE)
    op.drop_table(TABLE)
    op.drop_table(HOLIDAYS)
