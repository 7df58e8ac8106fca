"""Criminal proceedings a case belongs to (investigating agency, the criminal case's
reference sealed under the victim's data key, stage, outcome, when it was resolved
and tried), and the `investigate_border` function of the border guard and coast guard
(bodies assigned some investigative activities), as data

Revision ID: 20261203_criminal_proceedings
Revises: 20261203_report_calendars
Create Date: 2026-12-03 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261203_criminal_proceedings"
down_revision: str | None = "20261203_report_calendars"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "criminal_proceedings"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("investigating_agency_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.LargeBinary(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tried_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "stage IN ('reported', 'investigating', 'prosecuted', 'tried', 'closed')",
            name=op.f("ck_criminal_proceedings_stage"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('convicted', 'acquitted', 'dismissed', 'suspended')",
            name=op.f("ck_criminal_proceedings_outcome"),
        ),
        sa.CheckConstraint(
            "(stage IN ('tried', 'closed')) OR outcome IS NULL",
            name=op.f("ck_criminal_proceedings_outcome_only_when_decided"),
        ),
        sa.CheckConstraint(
            "stage <> 'closed' OR outcome IS NOT NULL",
            name=op.f("ck_criminal_proceedings_closed_has_outcome"),
        ),
        sa.CheckConstraint(
            "stage NOT IN ('prosecuted', 'tried') OR resolved_at IS NOT NULL",
            name=op.f("ck_criminal_proceedings_resolved"),
        ),
        sa.CheckConstraint(
            "stage <> 'tried' OR tried_at IS NOT NULL", name=op.f("ck_criminal_proceedings_tried")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            ondelete="CASCADE",
            name=op.f("fk_criminal_proceedings_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["investigating_agency_id"],
            ["agencies.id"],
            name=op.f("fk_criminal_proceedings_investigating_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_criminal_proceedings_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_criminal_proceedings_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criminal_proceedings")),
    )
    op.create_index(
        "ix_criminal_proceedings_case_opened", TABLE, ["case_id", "opened_at"], unique=False
    )
    op.create_index("ix_criminal_proceedings_resolved_at", TABLE, ["resolved_at"], unique=False)
    op.create_index("ix_criminal_proceedings_tried_at", TABLE, ["tried_at"], unique=False)
    op.execute(
        "UPDATE agency_kinds SET functions = array_append(functions, 'investigate_border') "
        "WHERE code = 'border_guard' AND NOT 'investigate_border' = ANY(functions)"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE agency_kinds SET functions = array_remove(functions, 'investigate_border') "
        "WHERE code = 'border_guard'"
    )
    op.drop_index("ix_criminal_proceedings_tried_at", table_name=TABLE)
    op.drop_index("ix_criminal_proceedings_resolved_at", table_name=TABLE)
    op.drop_index("ix_criminal_proceedings_case_opened", table_name=TABLE)
    op.drop_table(TABLE)
