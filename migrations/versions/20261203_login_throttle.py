"""Login throttling per account and client address (an index for the pair's count),
the webhook events `user.login_burst` and `integration_client.login_burst`, and the
integration-client scope `metrics:read`

Revision ID: 20261203_login_throttle
Revises: 20261203_staff_mfa
Create Date: 2026-12-03 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261203_login_throttle"
down_revision: str | None = "20261203_staff_mfa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_login_failures_username_address_failed_at"
_OLD_EVENTS = ("referral.created", "referral.accepted", "referral.waitlisted",
               "referral.rejected", "referral.completed", "case.transferred",
               "participant.added", "participant.removed",
               "hotline_report.created")  # fmt: skip
_NEW_EVENTS = ("user.login_burst", "integration_client.login_burst")
_OLD_SCOPES = ("agencies:read", "cases:read", "referrals:read", "referrals:write")
_NEW_SCOPES = ("metrics:read",)


def _in(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _recheck(events: tuple[str, ...], scopes: tuple[str, ...]) -> None:
    name = op.f("ck_webhook_events_type")
    op.drop_constraint(name, "webhook_events", type_="check")
    op.create_check_constraint(name, "webhook_events", f"event_type IN ({_in(*events)})")
    name = op.f("ck_integration_clients_scopes_allowed")
    op.drop_constraint(name, "integration_clients", type_="check")
    op.create_check_constraint(
        name, "integration_clients", f"scopes <@ ARRAY[{_in(*sorted(scopes))}]::varchar[]"
    )


def upgrade() -> None:
    op.create_index(_INDEX, "login_failures", ["username", "client_address", "failed_at"])
    _recheck((*_OLD_EVENTS, *_NEW_EVENTS), (*_OLD_SCOPES, *_NEW_SCOPES))


def downgrade() -> None:
    # The old constraints cannot hold the new events and scopes: the events go with
    # their deliveries and attempts, and the scope is taken from the clients holding it
    # (a client left with no scope is revoked first, as the schema wants one).
    events = f"SELECT id FROM webhook_events WHERE event_type IN ({_in(*_NEW_EVENTS)})"
    op.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM "
        f"webhook_deliveries WHERE event_id IN ({events}))"
    )
    op.execute(f"DELETE FROM webhook_deliveries WHERE event_id IN ({events})")
    op.execute(f"DELETE FROM webhook_events WHERE event_type IN ({_in(*_NEW_EVENTS)})")
    op.execute(
        "UPDATE integration_clients SET revoked_at = coalesce(revoked_at, now()), "
        "scopes = ARRAY['agencies:read']::varchar[] WHERE scopes = ARRAY['metrics:read']::varchar[]"
    )
    op.execute(
        "UPDATE integration_clients SET scopes = array_remove(scopes, 'metrics:read') "
        "WHERE 'metrics:read' = ANY(scopes)"
    )
    _recheck(_OLD_EVENTS, _OLD_SCOPES)
    op.drop_index(_INDEX, table_name="login_failures")
