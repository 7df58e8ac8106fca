"""cases

Revision ID: 20261123_cases
Revises: 20261123_identity_vault
Create Date: 2026-11-23 10:26:06.971067
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '20261123_cases'
down_revision: str | None = '20261123_identity_vault'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_number_counters',
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_case_number_counters_province_code_provinces')),
    sa.PrimaryKeyConstraint('province_code', 'year', name='pk_case_number_counters')
    )
    op.create_table('cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('owner_agency_id', sa.Uuid(), nullable=False),
    sa.Column('assigned_to', sa.Uuid(), nullable=True),
    sa.Column('intake_source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_commune_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('exploitation_types', postgresql.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('destination_country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('victim_person_id', sa.Uuid(), nullable=False),
    sa.Column('is_child', sa.Boolean(), nullable=False),
    sa.Column('is_minor', sa.Boolean(), nullable=False),
    sa.Column('currently_abroad', sa.Boolean(), nullable=False),
    sa.Column('hotline_report_id', sa.Uuid(), nullable=True),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('received', 'verifying', 'identified', 'not_identified', 'supporting', 'reintegrating', 'closed')", name=op.f('ck_cases_status')),
    sa.ForeignKeyConstraint(['assigned_to'], ['users.id'], name=op.f('fk_cases_assigned_to_users')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_cases_created_by_users')),
    sa.ForeignKeyConstraint(['owner_agency_id'], ['agencies.id'], name=op.f('fk_cases_owner_agency_id_agencies')),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_cases_province_code_provinces')),
    sa.ForeignKeyConstraint(['victim_person_id'], ['persons.id'], name=op.f('fk_cases_victim_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('case_number', name=op.f('uq_cases_case_number')),
    sa.UniqueConstraint('province_code', 'year', 'serial', name='uq_cases_number_parts')
    )
    op.create_index(op.f('ix_cases_assigned_to'), 'cases', ['assigned_to'], unique=False)
    op.create_index(op.f('ix_cases_hotline_report_id'), 'cases', ['hotline_report_id'], unique=False)
    op.create_index('ix_cases_owner_received', 'cases', ['owner_agency_id', 'received_at'], unique=False)
    op.create_index('ix_cases_status_due', 'cases', ['status', 'next_due_at'], unique=False)
    op.create_index(op.f('ix_cases_victim_person_id'), 'cases', ['victim_person_id'], unique=False)
    op.create_table('case_persons',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('victim', 'minor', 'relative')", name=op.f('ck_case_persons_role')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE', name=op.f('fk_case_persons_case_id_cases')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_case_persons_person_id_persons')),
    sa.PrimaryKeyConstraint('case_id', 'person_id', name='pk_case_persons')
    )
    op.create_index(op.f('ix_case_persons_person_id'), 'case_persons', ['person_id'], unique=False)
    op.create_table('case_timeline',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_agency_id', sa.Uuid(), nullable=True),
    sa.Column('ref_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('ref_id', sa.Uuid(), nullable=True),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('note', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE', name=op.f('fk_case_timeline_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_timeline'))
    )
    op.create_index('ix_case_timeline_case_time', 'case_timeline', ['case_id', 'occurred_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_timeline_case_time', table_name='case_timeline')
    op.drop_table('case_timeline')
    op.drop_index(op.f('ix_case_persons_person_id'), table_name='case_persons')
    op.drop_table('case_persons')
    op.drop_index(op.f('ix_cases_victim_person_id'), table_name='cases')
    op.drop_index('ix_cases_status_due', table_name='cases')
    op.drop_index('ix_cases_owner_received', table_name='cases')
    op.drop_index(op.f('ix_cases_hotline_report_id'), table_name='cases')
    op.drop_index(op.f('ix_cases_assigned_to'), table_name='cases')
    op.drop_table('cases')
    op.drop_table('case_number_counters')
