"""Failed sign-ins: growing delays per account and address, a limit per address, and a
notice to the account's agency when one account draws a burst of failures.

Rules:
- A failure is a row in `login_failures` (PostgreSQL, so every worker and host sees
  the same counts): the account key (a username, or `client:<client_id>` for an
  integration client), the client address (`app.security.proxies`), the time.
- Per account and address: the first `login_max_failures` failures in the window cost
  nothing; from then on the address must wait `login_delay_seconds`, doubled for each
  further failure (capped at the window) after its latest failure before it may try
  that account again. Refused attempts answer 429 with `Retry-After`, even with the
  right password, and are not counted (waiting is the only way on).
- The account is never locked as a whole: a stranger failing from another address
  does not slow its owner down, and the owner signing in clears only the failures of
  their own address, never the stranger's.
- Per address, any account: `login_max_failures_per_address` failures in the window
  hold that address back until the oldest counted one leaves the window (one address
  spraying many accounts).
- When the failures for one account in the window, from all addresses, reach
  `login_burst_failures`, its agency is told once (each time the count reaches it):
  the webhook event `user.login_burst` or `integration_client.login_burst` (ids and
  counts only) to the agency's endpoints, and the audit event `auth.login_burst`
  (recorded against the agency, so auditors filter it by agency). An unknown
  username has no agency to tell.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.audit import AuditContext
from app.config import Settings
from app.models import LoginFailure
from app.services.webhooks.outbox import emit


def delay_seconds(settings: Settings, failures: int) -> int:
    """How long an address waits after its latest failure, having failed `failures`
    times in the window for one account."""
    free = settings.login_max_failures
    if failures < free:
        return 0
    doublings = min(failures - free, 32)
    return min(settings.login_delay_seconds * 2**doublings, settings.login_window_seconds)


async def lock_account(session: AsyncSession, account: str) -> None:
    """Serialise attempts on one account (the counts below are then exact)."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("login:" + account))))


async def retry_after(
    session: AsyncSession, settings: Settings, account: str, address: str, now: datetime
) -> int | None:
    """Seconds until `address` may try `account` again, or None when it may now."""
    since = now - timedelta(seconds=settings.login_window_seconds)
    waits = []
    count, latest = (
        await session.execute(
            select(func.count(), func.max(col(LoginFailure.failed_at))).where(
                col(LoginFailure.username) == account,
                col(LoginFailure.client_address) == address,
                col(LoginFailure.failed_at) > since,
            )
        )
    ).one()
    delay = delay_seconds(settings, count)
    if delay and latest is not None:
        waits.append(math.ceil((latest + timedelta(seconds=delay) - now).total_seconds()))
    # The limit-th most recent failure from this address decides when a slot frees up.
    oldest_counted = (
        await session.execute(
            select(col(LoginFailure.failed_at))
            .where(col(LoginFailure.client_address) == address, col(LoginFailure.failed_at) > since)
            .order_by(col(LoginFailure.failed_at).desc())
            .offset(settings.login_max_failures_per_address - 1)
            .limit(1)
        )
    ).scalar_one_or_none()
    if oldest_counted is not None:
        free_at = oldest_counted + timedelta(seconds=settings.login_window_seconds)
        waits.append(math.ceil((free_at - now).total_seconds()))
    wait = max(waits, default=0)
    return wait if wait > 0 else None


async def record_failure(
    session: AsyncSession, settings: Settings, account: str, address: str, now: datetime
) -> bool:
    """Count a failure; True when it brings the account's failures in the window, from
    every address, to the burst threshold (the caller tells the agency)."""
    session.add(LoginFailure(username=account, client_address=address, failed_at=now))
    await session.flush()
    since = now - timedelta(seconds=settings.login_window_seconds)
    total = (
        await session.execute(
            select(func.count()).where(
                col(LoginFailure.username) == account, col(LoginFailure.failed_at) > since
            )
        )
    ).scalar_one()
    return bool(total == settings.login_burst_failures)


async def clear_failures(session: AsyncSession, account: str, address: str) -> None:
    """After a success: this address's failures for the account, nobody else's."""
    await session.execute(
        delete(LoginFailure).where(
            col(LoginFailure.username) == account, col(LoginFailure.client_address) == address
        )
    )


async def announce_burst(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext | None,
    *,
    resource_type: str,
    account_id: uuid.UUID,
    agency_id: uuid.UUID,
) -> None:
    """Tell the account's agency of a burst: a webhook event and an audit event."""
    event_type, key = (
        ("user.login_burst", "user_id")
        if resource_type == "user"
        else ("integration_client.login_burst", "client_id")
    )
    await emit(
        session,
        event_type=event_type,
        agency_ids=[agency_id],
        data={
            key: str(account_id),
            "failures": str(settings.login_burst_failures),
            "window_seconds": str(settings.login_window_seconds),
        },
    )
    base = context or AuditContext()
    await audit.record(
        session,
        action="auth.login_burst",
        resource_type=resource_type,
        resource_id=account_id,
        context=AuditContext(
            request_id=base.request_id,
            client_address=base.client_address,
            actor_type="system",
            agency_id=agency_id,
        ),
    )
