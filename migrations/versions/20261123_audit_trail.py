"""audit trail

Revision ID: 20261123_audit_trail
Revises: 20261123_foundation
Create Date: 2026-11-23 09:45:00

The audit tables (events partitioned by month, seals partitioned by ranges of the
chain sequence, signed checkpoints), the triggers that refuse UPDATE, DELETE and
TRUNCATE on them, the function that creates partitions ahead, and, when the
application's database role is separable from the owner, its grants.

Roles in production (see README, "Audit trail"): run migrations as the owner role
(it owns the tables and may disable triggers, so keep its credentials offline) and
the service as a separate role named in `VCM_DB_APP_ROLE` when migrating. That role
gets only SELECT and INSERT on the audit tables and EXECUTE on
`audit_ensure_partitions`, which runs with the owner's rights (SECURITY DEFINER).
"""

import os
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261123_audit_trail"
down_revision: str | None = "20261123_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_TABLES = ("audit_events", "audit_seals", "audit_checkpoints")

REFUSE_FUNCTION = """
CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

# A partition is reached through its parent, whose grants decide; default privileges
# (ALTER DEFAULT PRIVILEGES) would otherwise give the service UPDATE and DELETE on a
# partition made later, so every grant on a new partition is taken away.
PRIVATE_FUNCTION = """
CREATE FUNCTION audit_make_private(schema text, part text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END
        FROM pg_class c
        CROSS JOIN LATERAL aclexplode(c.relacl) a
        LEFT JOIN pg_roles r ON r.oid = a.grantee
        WHERE c.oid = format('%I.%I', schema, part)::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE ALL ON %I.%I FROM %s', schema, part, grantee);
    END LOOP;
END
$$
"""

# Creates the partitions that must exist now and soon: the current and the next
# `months_ahead` months of events, and the seal block holding the chain's head and
# the one after. Runs with the owner's rights so the service role needs no DDL right;
# each new partition gets the TRUNCATE guard (statement triggers are not inherited,
# and a partition can be truncated directly). lock_timeout keeps a busy table from
# stalling callers: the sealer retries on its next round.
ENSURE_FUNCTION = """
CREATE FUNCTION audit_ensure_partitions(months_ahead integer DEFAULT 1) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    created integer := 0;
    month_start timestamp;
    part text;
    head bigint;
    block bigint;
    block_size constant bigint := 10000000;
    schema constant text := {schema};
BEGIN
    PERFORM set_config('lock_timeout', '2s', true);
    FOR i IN 0..greatest(months_ahead, 0) LOOP
        month_start := date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i);
        part := 'audit_events_p' || to_char(month_start, 'YYYY_MM');
        IF to_regclass(format('%I.%I', schema, part)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I.%I PARTITION OF %I.audit_events FOR VALUES FROM (%L) TO (%L)',
                schema, part, schema,
                month_start::text || '+00', (month_start + interval '1 month')::text || '+00');
            EXECUTE format(
                'CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %I.%I '
                'FOR EACH STATEMENT EXECUTE FUNCTION %I.audit_refuse_change()',
                schema, part, schema);
            EXECUTE format('SELECT %I.audit_make_private(%L, %L)', schema, schema, part);
            created := created + 1;
        END IF;
    END LOOP;
    EXECUTE format('SELECT coalesce(max(chain_seq), 0) FROM %I.audit_seals', schema) INTO head;
    FOR block IN (head / block_size)..(head / block_size + 1) LOOP
        part := 'audit_seals_p' || lpad(block::text, 6, '0');
        IF to_regclass(format('%I.%I', schema, part)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I.%I PARTITION OF %I.audit_seals FOR VALUES FROM (%s) TO (%s)',
                schema, part, schema, block * block_size, (block + 1) * block_size);
            EXECUTE format(
                'CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %I.%I '
                'FOR EACH STATEMENT EXECUTE FUNCTION %I.audit_refuse_change()',
                schema, part, schema);
            EXECUTE format('SELECT %I.audit_make_private(%L, %L)', schema, schema, part);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$
"""


def _app_role() -> str | None:
    role = os.environ.get("VCM_DB_APP_ROLE", "").strip()
    if not role:
        return None
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise SystemExit("VCM_DB_APP_ROLE must be a plain lower-case role name.")
    return role


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_agency_id", sa.Uuid(), nullable=True),
        sa.Column("actor_role", sa.String(length=32), nullable=True),
        sa.Column("token_id", sa.String(length=64), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column(
            "fields", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("emergency", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('success', 'denied', 'error')", name=op.f("ck_audit_events_outcome")
        ),
        sa.PrimaryKeyConstraint("occurred_at", "id", name="pk_audit_events"),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_index("ix_audit_events_txid_id", "audit_events", ["txid", "id"])
    op.create_index(
        "ix_audit_events_resource", "audit_events", ["resource_type", "resource_id", "occurred_at"]
    )
    op.create_index("ix_audit_events_actor", "audit_events", ["actor_id", "occurred_at"])

    op.create_table(
        "audit_seals",
        sa.Column("chain_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_txid", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "sealed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("chain_seq", name=op.f("pk_audit_seals")),
        postgresql_partition_by="RANGE (chain_seq)",
    )
    op.create_index("ix_audit_seals_event", "audit_seals", ["event_id"])

    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("chain_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index(
        op.f("ix_audit_checkpoints_chain_seq"), "audit_checkpoints", ["chain_seq"], unique=False
    )

    op.execute(REFUSE_FUNCTION)
    op.execute(PRIVATE_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION audit_make_private(text, text) FROM PUBLIC")
    for table in AUDIT_TABLES:
        # Row triggers on a partitioned table are cloned onto every partition.
        op.execute(
            f"CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
    # The function runs with a fixed, safe search_path, so it names the schema the
    # migration runs in explicitly.
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    quoted = "'" + str(schema).replace("'", "''") + "'"
    op.execute(ENSURE_FUNCTION.replace("{schema}", quoted))
    op.execute("SELECT audit_ensure_partitions(1)")

    role = _app_role()
    if role is not None:
        tables = ", ".join(AUDIT_TABLES)
        op.execute(f"REVOKE ALL ON {tables} FROM {role}")
        op.execute(f"GRANT SELECT, INSERT ON {tables} TO {role}")
        op.execute("REVOKE ALL ON FUNCTION audit_ensure_partitions(integer) FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION audit_ensure_partitions(integer) TO {role}")


def downgrade() -> None:
    # Dropping the parents drops their partitions and triggers.
    op.execute("DROP FUNCTION IF EXISTS audit_ensure_partitions(integer)")
    op.drop_index(op.f("ix_audit_checkpoints_chain_seq"), table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_seals")
    op.drop_table("audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
    op.execute("DROP FUNCTION IF EXISTS audit_make_private(text, text)")
