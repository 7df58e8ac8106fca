"""The caller's own account: changing one's password.

Rules:
- The current password is required; a wrong one answers 403 and counts as a failed
  sign-in of the account (the same limit as the password grant: 429 once reached).
- The new password passes the policy that applies when an administrator sets one
  (422 `new_password`), and must differ from the current one.
- A change clears `must_change_password` and ends every login session of the user,
  the caller's own included: the next request signs in with the new password.
- Audited: `auth.password_change` (success, or denied with `wrong_password` or
  `locked_out`); the password itself never.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.config import Settings
from app.errors import DeniedForbidden, TooManyRequests, ValidationFailed
from app.models import User
from app.security.passwords import hash_password, policy_problems, verify_password
from app.security.principal import Principal
from app.services import auth as auth_service
from app.services import login_throttle as throttle

ACTION = "auth.password_change"


async def change_password(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
    client_address: str,
) -> None:
    await auth_service.require_user(session, principal, action=ACTION)
    user = (
        await session.execute(
            select(User).where(col(User.id) == principal.actor_id).with_for_update()
        )
    ).scalar_one()
    now = datetime.now(UTC)
    wait = await throttle.retry_after(session, settings, user.username, client_address, now)
    if wait is not None and wait > 0:
        await _denied(session, principal, "locked_out")
        raise TooManyRequests(wait, "Too many failed sign-in attempts; try again later.")
    if not verify_password(current_password, user.password_hash):
        await throttle.record_failure(session, settings, user.username, client_address, now)
        await _denied(session, principal, "wrong_password")
        raise DeniedForbidden("The current password is wrong.")
    problems = [{"field": "new_password", "message": p} for p in policy_problems(new_password)]
    if new_password == current_password:
        problems.append({"field": "new_password", "message": "must differ from the current one"})
    if problems:
        raise ValidationFailed(problems)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.version += 1
    user.updated_at = now
    await auth_service.revoke_user_sessions(session, user.id, reason="password_changed")
    await session.flush()
    await audit.record(
        session,
        action=ACTION,
        resource_type="user",
        resource_id=user.id,
        principal=principal,
        fields=("password",),
    )


async def _denied(session: AsyncSession, principal: Principal, reason: str) -> None:
    await session.flush()
    await audit.record(
        session,
        action=ACTION,
        resource_type="user",
        resource_id=principal.actor_id,
        principal=principal,
        outcome="denied",
        reason=reason,
    )
