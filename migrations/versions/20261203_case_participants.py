"""One case, many agencies: referral purposes that become participant roles
(verification, identification, notification), the waitlist answer, rejection reason
codes and completion outcomes, when a referral's legal basis ends (copied from its
consent, so the access rule reads one table), the case's current province after a transfer, the
referral and province of a support service, and the webhook events for them

Revision ID: 20261203_case_participants
Revises: 20261203_one_case_per_victim
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_case_participants"
down_revision: str | None = "20261203_one_case_per_victim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


_OLD_PURPOSES = ("support", "investigation", "protection", "repatriation", "transfer")
_PURPOSES = ("verification", "identification", "investigation", "support", "protection",
             "repatriation", "notification", "transfer")  # fmt: skip
_OLD_STATUSES = ("pending", "accepted", "rejected", "completed", "cancelled", "expired")
_STATUSES = ("pending", "waitlisted", "accepted", "rejected", "completed", "cancelled",
             "expired")  # fmt: skip
_REASONS = ("no_capacity", "out_of_jurisdiction", "not_competent", "duplicate", "other")
_OUTCOMES = ("delivered", "partly_delivered", "not_delivered")
_OLD_EVENTS = ("referral.created", "referral.accepted", "referral.rejected",
               "referral.completed", "case.transferred")  # fmt: skip
_EVENTS = (*_OLD_EVENTS[:2], "referral.waitlisted", *_OLD_EVENTS[2:], "participant.added",
           "participant.removed")  # fmt: skip


def _recheck(table: str, name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, condition)


def upgrade() -> None:
    _recheck("referrals", "purpose", f"purpose IN ({_in(*_PURPOSES)})")
    _recheck("referrals", "status", f"status IN ({_in(*_STATUSES)})")
    op.add_column("referrals", sa.Column("reason_code", sa.String(length=24), nullable=True))
    op.add_column("referrals", sa.Column("outcome_code", sa.String(length=24), nullable=True))
    op.add_column("referrals", sa.Column("expected_at", sa.DateTime(timezone=True)))
    op.add_column("referrals", sa.Column("basis_ends_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE referrals r SET basis_ends_at = CASE WHEN k.status = 'withdrawn' "
        "THEN coalesce(k.withdrawn_at, now()) ELSE k.expires_at END "
        "FROM case_consents k WHERE k.id = r.consent_id"
    )
    op.create_check_constraint(
        op.f("ck_referrals_reason_code"), "referrals", f"reason_code IN ({_in(*_REASONS)})"
    )
    op.create_check_constraint(
        op.f("ck_referrals_outcome_code"), "referrals", f"outcome_code IN ({_in(*_OUTCOMES)})"
    )
    op.add_column("cases", sa.Column("current_province_code", sa.String(length=2), nullable=True))
    op.create_foreign_key(
        op.f("fk_cases_current_province_code_provinces"),
        "cases", "provinces", ["current_province_code"], ["code"],
    )  # fmt: skip
    # A case already transferred to another province is handled there now.
    op.execute(
        "UPDATE cases c SET current_province_code = a.province_code "
        "FROM (SELECT DISTINCT ON (r.case_id) r.case_id, r.to_agency_id FROM referrals r "
        "WHERE r.purpose = 'transfer' AND r.status IN ('accepted', 'completed') "
        "ORDER BY r.case_id, r.decided_at DESC) t "
        "JOIN agencies a ON a.id = t.to_agency_id "
        "WHERE c.id = t.case_id AND a.province_code IS NOT NULL "
        "AND a.province_code <> c.province_code"
    )
    op.add_column("support_services", sa.Column("referral_id", sa.Uuid(), nullable=True))
    op.add_column(
        "support_services", sa.Column("province_code", sa.String(length=2), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_support_services_referral_id_referrals"),
        "support_services", "referrals", ["referral_id"], ["id"],
    )  # fmt: skip
    op.create_foreign_key(
        op.f("fk_support_services_province_code_provinces"),
        "support_services", "provinces", ["province_code"], ["code"],
    )  # fmt: skip
    op.create_index(op.f("ix_support_services_referral_id"), "support_services", ["referral_id"])
    _recheck("webhook_events", "type", f"event_type IN ({_in(*_EVENTS)})")


def downgrade() -> None:
    _recheck("webhook_events", "type", f"event_type IN ({_in(*_OLD_EVENTS)})")
    op.drop_index(op.f("ix_support_services_referral_id"), table_name="support_services")
    op.drop_constraint(
        op.f("fk_support_services_province_code_provinces"), "support_services", "foreignkey"
    )
    op.drop_constraint(
        op.f("fk_support_services_referral_id_referrals"), "support_services", "foreignkey"
    )
    op.drop_column("support_services", "province_code")
    op.drop_column("support_services", "referral_id")
    op.drop_constraint(op.f("fk_cases_current_province_code_provinces"), "cases", "foreignkey")
    op.drop_column("cases", "current_province_code")
    op.drop_constraint(op.f("ck_referrals_outcome_code"), "referrals", type_="check")
    op.drop_constraint(op.f("ck_referrals_reason_code"), "referrals", type_="check")
    op.drop_column("referrals", "basis_ends_at")
    op.drop_column("referrals", "expected_at")
    op.drop_column("referrals", "outcome_code")
    op.drop_column("referrals", "reason_code")
    _recheck("referrals", "status", f"status IN ({_in(*_OLD_STATUSES)})")
    _recheck("referrals", "purpose", f"purpose IN ({_in(*_OLD_PURPOSES)})")
