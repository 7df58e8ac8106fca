"""case records: evidence, identification decisions, protection measures, consents

Revision ID: 20261123_case_records
Revises: 20261123_hotline_reports
Create Date: 2026-11-23 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_case_records"
down_revision: str | None = "20261123_hotline_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_consents',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('given_by', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.Uuid(), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("given_by IN ('self', 'legal_representative', 'both')", name=op.f('ck_case_consents_given_by')),
    sa.CheckConstraint("scope IN ('data_sharing', 'services', 'reporting')", name=op.f('ck_case_consents_scope')),
    sa.CheckConstraint("status IN ('active', 'withdrawn')", name=op.f('ck_case_consents_status')),
    sa.CheckConstraint('expires_at IS NULL OR expires_at > given_at', name=op.f('ck_case_consents_expiry')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE', name=op.f('fk_case_consents_case_id_cases')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_case_consents_recorded_by_users')),
    sa.ForeignKeyConstraint(['withdrawn_by'], ['users.id'], name=op.f('fk_case_consents_withdrawn_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_consents'))
    )
    op.create_index('ix_case_consents_case_scope', 'case_consents', ['case_id', 'scope'], unique=False)

    op.create_table('case_evidence',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('description', sa.LargeBinary(), nullable=False),
    sa.Column('obtained_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('document_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source IN ('investigating_bodies_records', 'rescuing_agency', 'vietnamese_mission_abroad', 'other_domestic_agency', 'foreign_authority', 'statement_of_person_or_relatives', 'statement_of_trafficker', 'other_victims_or_witnesses', 'other_lawful_evidence')", name=op.f('ck_case_evidence_source')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_case_evidence_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE', name=op.f('fk_case_evidence_case_id_cases')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_case_evidence_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_evidence'))
    )
    op.create_index('ix_case_evidence_case_created', 'case_evidence', ['case_id', 'created_at'], unique=False)

    op.create_table('identification_decisions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('legal_basis', sa.LargeBinary(), nullable=False),
    sa.Column('evidence_ids', postgresql.ARRAY(sa.Uuid()), nullable=False),
    sa.Column('certificate_number', sa.LargeBinary(), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("certificate_number IS NULL OR decision = 'victim'", name=op.f('ck_identification_decisions_certificate_only_victim')),
    sa.CheckConstraint("decision IN ('victim', 'not_victim')", name=op.f('ck_identification_decisions_decision')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_identification_decisions_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE', name=op.f('fk_identification_decisions_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_identification_decisions_decided_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identification_decisions'))
    )
    op.create_index('ix_identification_decisions_case_created', 'identification_decisions', ['case_id', 'created_at'], unique=False)

    op.create_table('protection_measures',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('measure', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('protected_person', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('protected_person_id', sa.Uuid(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('refusal_reason', sa.LargeBinary(), nullable=True),
    sa.Column('responsible_agency_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("measure IN ('safe_shelter', 'identity_confidentiality', 'residence_protection', 'workplace_protection', 'school_protection', 'guard', 'police_assistance', 'army_assistance', 'other')", name=op.f('ck_protection_measures_measure')),
    sa.CheckConstraint("protected_person IN ('victim', 'minor', 'relative')", name=op.f('ck_protection_measures_protected_person')),
    sa.CheckConstraint("status <> 'refused' OR refusal_reason IS NOT NULL", name=op.f('ck_protection_measures_refusal_has_reason')),
    sa.CheckConstraint("status IN ('planned', 'active', 'ended', 'refused')", name=op.f('ck_protection_measures_status')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_protection_measures_dates')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE', name=op.f('fk_protection_measures_case_id_cases')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_protection_measures_created_by_users')),
    sa.ForeignKeyConstraint(['protected_person_id'], ['persons.id'], name=op.f('fk_protection_measures_protected_person_id_persons')),
    sa.ForeignKeyConstraint(['responsible_agency_id'], ['agencies.id'], name=op.f('fk_protection_measures_responsible_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protection_measures'))
    )
    op.create_index('ix_protection_measures_case_created', 'protection_measures', ['case_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_protection_measures_case_created', table_name='protection_measures')
    op.drop_table('protection_measures')
    op.drop_index('ix_identification_decisions_case_created', table_name='identification_decisions')
    op.drop_table('identification_decisions')
    op.drop_index('ix_case_evidence_case_created', table_name='case_evidence')
    op.drop_table('case_evidence')
    op.drop_index('ix_case_consents_case_scope', table_name='case_consents')
    op.drop_table('case_consents')
