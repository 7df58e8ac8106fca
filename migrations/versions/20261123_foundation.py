"""foundation

Revision ID: 20261123_foundation
Revises:
Create Date: 2026-11-23 09:26:13.465379
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '20261123_foundation'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The 34 province-level units after the 2025 reorganisation, with the codes of
# Decision 19/2025/QĐ-TTg. Former codes of merged provinces belong on historical
# records, not here.
PROVINCES = [
    ("01", "Thành phố Hà Nội"),
    ("04", "Tỉnh Cao Bằng"),
    ("08", "Tỉnh Tuyên Quang"),
    ("11", "Tỉnh Điện Biên"),
    ("12", "Tỉnh Lai Châu"),
    ("14", "Tỉnh Sơn La"),
    ("15", "Tỉnh Lào Cai"),
    ("19", "Tỉnh Thái Nguyên"),
    ("20", "Tỉnh Lạng Sơn"),
    ("22", "Tỉnh Quảng Ninh"),
    ("24", "Tỉnh Bắc Ninh"),
    ("25", "Tỉnh Phú Thọ"),
    ("31", "Thành phố Hải Phòng"),
    ("33", "Tỉnh Hưng Yên"),
    ("37", "Tỉnh Ninh Bình"),
    ("38", "Tỉnh Thanh Hóa"),
    ("40", "Tỉnh Nghệ An"),
    ("42", "Tỉnh Hà Tĩnh"),
    ("44", "Tỉnh Quảng Trị"),
    ("46", "Thành phố Huế"),
    ("48", "Thành phố Đà Nẵng"),
    ("51", "Tỉnh Quảng Ngãi"),
    ("52", "Tỉnh Gia Lai"),
    ("56", "Tỉnh Khánh Hòa"),
    ("66", "Tỉnh Đắk Lắk"),
    ("68", "Tỉnh Lâm Đồng"),
    ("75", "Tỉnh Đồng Nai"),
    ("79", "Thành phố Hồ Chí Minh"),
    ("80", "Tỉnh Tây Ninh"),
    ("82", "Tỉnh Đồng Tháp"),
    ("86", "Tỉnh Vĩnh Long"),
    ("91", "Tỉnh An Giang"),
    ("92", "Thành phố Cần Thơ"),
    ("96", "Tỉnh Cà Mau"),
]

# Agency kinds and their functions (DOMAIN.md, "Agencies"): data, so the next
# reorganisation of ministries is a data change, not a code change.
AGENCY_KINDS = [
    ("national", "Cơ quan trung ương", "National agency",
     ["oversight", "national_reports", "system_administration"]),
    ("social_affairs", "Sở Y tế (trước đây Sở LĐTBXH), cơ sở trợ giúp xã hội",
     "Social affairs (provincial health department)",
     ["receive", "verify", "verify_lead", "support", "protect", "refer", "transfer"]),
    ("police", "Công an", "Police",
     ["receive", "verify", "identify", "investigate", "protect", "refer"]),
    ("border_guard", "Bộ đội Biên phòng, Cảnh sát biển", "Border guard and coast guard",
     ["receive", "verify", "protect", "hand_over", "refer"]),
    ("commune", "Ủy ban nhân dân cấp xã", "Commune People's Committee",
     ["receive", "first_support", "notify", "refer"]),
    ("hotline", "Tổng đài 111", "Hotline 111", ["record_reports", "forward"]),
    ("diplomatic_mission", "Cơ quan đại diện Việt Nam ở nước ngoài",
     "Vietnamese mission abroad", ["receive", "verify_identity", "repatriate", "refer"]),
    ("legal_aid", "Trung tâm trợ giúp pháp lý", "Legal-aid centre", ["legal_aid"]),
    ("health", "Cơ sở y tế", "Health facility", ["medical_support"]),
    ("bank", "Ngân hàng Chính sách xã hội", "Bank for Social Policies", ["loans"]),
    ("ngo", "Tổ chức xã hội, Hội Liên hiệp Phụ nữ", "NGO or mass organisation",
     ["support", "counselling", "receive"]),
]


NATIONAL_KINDS = {"national", "hotline", "diplomatic_mission"}


def upgrade() -> None:
    op.create_table('agency_kinds',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name_vi', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('functions', postgresql.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('provincial', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_agency_kinds'))
    )
    op.create_table('idempotency_keys',
    sa.Column('principal_id', sa.Uuid(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('request_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('principal_id', 'key', name='pk_idempotency_keys')
    )
    op.create_table('login_failures',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_client_address_failed_at', 'login_failures', ['client_address', 'failed_at'], unique=False)
    op.create_index('ix_login_failures_username_failed_at', 'login_failures', ['username', 'failed_at'], unique=False)
    op.create_table('provinces',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_provinces'))
    )
    op.create_table('agencies',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('commune_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['kind'], ['agency_kinds.code'], name=op.f('fk_agencies_kind_agency_kinds')),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], name=op.f('fk_agencies_province_code_provinces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code'))
    )
    op.create_index(op.f('ix_agencies_kind'), 'agencies', ['kind'], unique=False)
    op.create_index(op.f('ix_agencies_province_code'), 'agencies', ['province_code'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('system_admin', 'agency_admin', 'supervisor', 'case_worker', 'hotline_operator', 'auditor', 'analyst')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_users_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_index(op.f('ix_users_agency_id'), 'users', ['agency_id'], unique=False)
    op.create_table('auth_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE', name=op.f('fk_auth_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions'))
    )
    op.create_index(op.f('ix_auth_sessions_user_id'), 'auth_sessions', ['user_id'], unique=False)
    op.create_table('refresh_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['auth_sessions.id'], ondelete='CASCADE', name=op.f('fk_refresh_tokens_session_id_auth_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_refresh_tokens_token_hash'))
    )
    op.create_index(op.f('ix_refresh_tokens_session_id'), 'refresh_tokens', ['session_id'], unique=False)

    provinces = sa.table("provinces", sa.column("code"), sa.column("name"))
    op.bulk_insert(provinces, [{"code": c, "name": n} for c, n in PROVINCES])
    kinds = sa.table(
        "agency_kinds",
        sa.column("code"),
        sa.column("name_vi"),
        sa.column("name_en"),
        sa.column("functions", postgresql.ARRAY(sa.String(40))),
        sa.column("provincial", sa.Boolean()),
    )
    op.bulk_insert(
        kinds,
        [
            {
                "code": c,
                "name_vi": vi,
                "name_en": en,
                "functions": f,
                "provincial": c not in NATIONAL_KINDS,
            }
            for c, vi, en, f in AGENCY_KINDS
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_refresh_tokens_session_id'), table_name='refresh_tokens')
    op.drop_table('refresh_tokens')
    op.drop_index(op.f('ix_auth_sessions_user_id'), table_name='auth_sessions')
    op.drop_table('auth_sessions')
    op.drop_index(op.f('ix_users_agency_id'), table_name='users')
    op.drop_table('users')
    op.drop_index(op.f('ix_agencies_province_code'), table_name='agencies')
    op.drop_index(op.f('ix_agencies_kind'), table_name='agencies')
    op.drop_table('agencies')
    op.drop_table('provinces')
    op.drop_index('ix_login_failures_username_failed_at', table_name='login_failures')
    op.drop_index('ix_login_failures_client_address_failed_at', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_table('idempotency_keys')
    op.drop_table('agency_kinds')
