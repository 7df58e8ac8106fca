"""hotline reports

Revision ID: 20261123_hotline_reports
Revises: 20261123_cases
Create Date: 2026-11-23 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261123_hotline_reports"
down_revision: str | None = "20261123_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUTOSTRING = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "hotline_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", _AUTOSTRING(length=16), nullable=False),
        sa.Column("province_code", _AUTOSTRING(length=2), nullable=False),
        sa.Column("urgency", _AUTOSTRING(length=20), nullable=False),
        sa.Column("status", _AUTOSTRING(length=16), nullable=False),
        sa.Column("owner_agency_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("caller_person_id", sa.Uuid(), nullable=False),
        sa.Column("caller_relation", sa.LargeBinary(), nullable=True),
        sa.Column("summary", sa.LargeBinary(), nullable=False),
        sa.Column("close_reason", sa.LargeBinary(), nullable=True),
        sa.Column("forwarded_to_agency_id", sa.Uuid(), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("triaged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("triaged_by", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('phone', 'web', 'app', 'walk_in')",
            name=op.f("ck_hotline_reports_channel"),
        ),
        sa.CheckConstraint(
            "urgency IN ('routine', 'urgent', 'immediate_danger')",
            name=op.f("ck_hotline_reports_urgency"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'case_opened', 'forwarded', 'closed')",
            name=op.f("ck_hotline_reports_status"),
        ),
        sa.ForeignKeyConstraint(
            ["caller_person_id"],
            ["persons.id"],
            name=op.f("fk_hotline_reports_caller_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hotline_reports_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_hotline_reports_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["forwarded_to_agency_id"],
            ["agencies.id"],
            name=op.f("fk_hotline_reports_forwarded_to_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_agency_id"],
            ["agencies.id"],
            name=op.f("fk_hotline_reports_owner_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_hotline_reports_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["triaged_by"], ["users.id"], name=op.f("fk_hotline_reports_triaged_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_reports")),
    )
    op.create_index(
        op.f("ix_hotline_reports_caller_person_id"),
        "hotline_reports",
        ["caller_person_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_hotline_reports_forwarded_to_agency_id"),
        "hotline_reports",
        ["forwarded_to_agency_id"],
        unique=False,
    )
    op.create_index(
        "ix_hotline_reports_owner_created",
        "hotline_reports",
        ["owner_agency_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "hotline_suspected_victims",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("approximate_age", sa.SmallInteger(), nullable=True),
        sa.Column("location", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "approximate_age IS NULL OR approximate_age BETWEEN 0 AND 120",
            name=op.f("ck_hotline_suspected_victims_approximate_age"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_hotline_suspected_victims_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["hotline_reports.id"],
            name=op.f("fk_hotline_suspected_victims_report_id_hotline_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "position", name="pk_hotline_suspected_victims"),
    )
    op.create_index(
        op.f("ix_hotline_suspected_victims_person_id"),
        "hotline_suspected_victims",
        ["person_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_hotline_suspected_victims_person_id"), table_name="hotline_suspected_victims"
    )
    op.drop_table("hotline_suspected_victims")
    op.drop_index("ix_hotline_reports_owner_created", table_name="hotline_reports")
    op.drop_index(op.f("ix_hotline_reports_forwarded_to_agency_id"), table_name="hotline_reports")
    op.drop_index(op.f("ix_hotline_reports_caller_person_id"), table_name="hotline_reports")
    op.drop_table("hotline_reports")
