"""identity vault

Persons with encrypted identity columns, their wrapped data keys, blind-index values
and encrypted documents (issue 3; see app/models/person.py and app/models/document.py).

Revision ID: 20261123_identity_vault
Revises: 20261123_audit_trail
Create Date: 2026-11-23 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261123_identity_vault"
down_revision: str | None = "20261123_audit_trail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENCRYPTED_COLUMNS = (
    "full_name",
    "other_names",
    "date_of_birth",
    "national_id",
    "phone",
    "address",
    "ethnicity",
)


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("sex", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("nationality", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("ethnicity_group", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column(
            "hometown_province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True
        ),
        *(sa.Column(name, sa.LargeBinary(), nullable=True) for name in ENCRYPTED_COLUMNS),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "erasure_legal_basis", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True
        ),
        sa.Column(
            "erasure_reason_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        ),
        sa.Column("erased_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "erasure_reason_code IN ('data_subject_request', 'consent_withdrawn', "
            "'retention_expired', 'court_order', 'recorded_in_error')",
            name=op.f("ck_persons_erasure_reason"),
        ),
        sa.CheckConstraint(
            "ethnicity_group IN ('kinh', 'minority', 'foreign', 'unknown')",
            name=op.f("ck_persons_ethnicity_group"),
        ),
        sa.CheckConstraint(
            "kind IN ('victim', 'minor', 'relative', 'hotline_caller', 'reported_person')",
            name=op.f("ck_persons_kind"),
        ),
        sa.CheckConstraint("nationality ~ '^[A-Z]{2}$'", name=op.f("ck_persons_nationality")),
        sa.CheckConstraint(
            "sex IN ('female', 'male', 'other', 'unknown')", name=op.f("ck_persons_sex")
        ),
        sa.CheckConstraint(
            "birth_year BETWEEN 1900 AND 2100", name=op.f("ck_persons_birth_year")
        ),
        sa.CheckConstraint(
            "erased_at IS NULL OR (erasure_legal_basis IS NOT NULL AND "
            + " AND ".join(f"{c} IS NULL" for c in ENCRYPTED_COLUMNS)
            + ")",
            name=op.f("ck_persons_erased_has_no_identity"),
        ),
        sa.ForeignKeyConstraint(
            ["erased_by"], ["users.id"], name=op.f("fk_persons_erased_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["hometown_province_code"],
            ["provinces.code"],
            name=op.f("fk_persons_hometown_province_code_provinces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
    )
    op.create_index(op.f("ix_persons_kind"), "persons", ["kind"], unique=False)

    op.create_table(
        "person_keys",
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("rewrapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kek_version >= 1", name=op.f("ck_person_keys_kek_version")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_person_keys_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_person_keys")),
        sa.UniqueConstraint("person_id", name=op.f("uq_person_keys_person_id")),
    )
    op.create_index(
        op.f("ix_person_keys_kek_version"), "person_keys", ["kek_version"], unique=False
    )

    op.create_table(
        "person_blind_indexes",
        sa.Column("index_name", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "octet_length(value) BETWEEN 1 AND 32",
            name=op.f("ck_person_blind_indexes_value_length"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_person_blind_indexes_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "index_name", "value", "person_id", name="pk_person_blind_indexes"
        ),
    )
    op.create_index(
        "ix_person_blind_indexes_person_id", "person_blind_indexes", ["person_id"], unique=False
    )

    op.create_table(
        "person_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "media_type IN ('image/jpeg', 'image/png')",
            name=op.f("ck_person_documents_media_type"),
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_person_documents_size")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_person_documents_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_documents")),
    )
    op.create_index(
        op.f("ix_person_documents_person_id"), "person_documents", ["person_id"], unique=False
    )
    # Ciphertext does not compress: store documents out of line without trying to.
    op.execute("ALTER TABLE person_documents ALTER COLUMN ciphertext SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_index(op.f("ix_person_documents_person_id"), table_name="person_documents")
    op.drop_table("person_documents")
    op.drop_index("ix_person_blind_indexes_person_id", table_name="person_blind_indexes")
    op.drop_table("person_blind_indexes")
    op.drop_index(op.f("ix_person_keys_kek_version"), table_name="person_keys")
    op.drop_table("person_keys")
    op.drop_index(op.f("ix_persons_kind"), table_name="persons")
    op.drop_table("persons")
