"""Login, refresh, logout, and the failed-login throttle.

Rules:
- Unknown user and wrong password answer the same error after the same argon2 work.
- Failed sign-ins slow down the address making them, per account and address, with
  growing delays, and a burst for one account is announced to its agency; the account
  is never locked as a whole (`app.services.login_throttle`). A throttled attempt
  answers 429 with `Retry-After`, even with the right password. An advisory lock per
  account keeps concurrent guesses from slipping past the count.
- A refresh token is single use: using it marks it used and issues a new one in the
  same session. Presenting a used one again revokes the whole session (the family),
  because one of the two holders is a thief.
- A second factor (`app.services.second_factor`): once the user is enrolled, the right
  password without `otp` answers 401 `mfa-required` (not counted as a failure); a
  wrong or replayed code answers the same and counts as a failed sign-in. The session
  and its tokens carry `amr` ["pwd", "otp"], else ["pwd"].
- A limited session (`AuthSession.restriction`, enforced in `app.deps.authenticate`):
  after an administrator set the password (`must_change_password`) the session may
  only change it ("password_change"); a user whose role needs a second factor
  (`Settings.mfa_roles`) and who has none enrolled may only enrol one
  ("mfa_enrolment"). Each step ends every session; the user signs in again.
  A refresh of a password-only session of such a role is refused.
- Audited (`resource_type` "user", the account when known; never the username):
  `auth.login` success, or denied with reason `locked_out`, `unknown_user`,
  `wrong_password`, `account_disabled`, `mfa_required`, `wrong_otp`; `auth.refresh`
  success or denied (`unknown_refresh_token`, `refresh_token_reused`, `refresh_token_invalid`);
  `auth.logout`. Failures raise `keep_work` errors, so their rows commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.audit import AuditContext
from app.config import Settings
from app.errors import (
    DeniedForbidden,
    InvalidCredentials,
    InvalidGrant,
    MfaRequired,
    TooManyRequests,
)
from app.models import Agency, AuthSession, RefreshToken, User
from app.security.keyring import KeyProvider
from app.security.passwords import verify_password
from app.security.principal import Principal
from app.security.tokens import TokenService, hash_refresh_token, new_refresh_token
from app.services import login_throttle as throttle
from app.services import second_factor


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    user_id: uuid.UUID
    token_id: str


async def _issue(
    session: AsyncSession,
    tokens: TokenService,
    settings: Settings,
    user: User,
    auth_session: AuthSession,
    now: datetime,
) -> TokenPair:
    refresh, refresh_hash = new_refresh_token()
    session.add(
        RefreshToken(
            session_id=auth_session.id,
            token_hash=refresh_hash,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )
    )
    access = tokens.issue_access_token(
        user_id=user.id,
        session_id=auth_session.id,
        role=user.role,
        agency_id=user.agency_id,
        amr=tuple(auth_session.amr.split()),
    )
    await session.flush()
    return TokenPair(access.token, access.expires_in, refresh, user.id, access.token_id)


def _as_user(context: AuditContext | None, user: User, token_id: str | None) -> AuditContext:
    base = context or AuditContext()
    return AuditContext(
        request_id=base.request_id,
        client_address=base.client_address,
        actor_id=user.id,
        actor_type="user",
        agency_id=user.agency_id,
        role=user.role,
        token_id=token_id,
    )


async def _record_auth(
    session: AsyncSession,
    action: str,
    context: AuditContext | None,
    user_id: uuid.UUID | None,
    *,
    reason: str | None = None,
) -> None:
    """A failed or refused grant: the caller is anonymous, the account the record."""
    base = context or AuditContext()
    anonymous = AuditContext(
        request_id=base.request_id, client_address=base.client_address, actor_type="anonymous"
    )
    await audit.record(
        session,
        action=action,
        resource_type="user",
        resource_id=user_id,
        context=anonymous,
        outcome="denied",
        reason=reason,
    )


async def password_grant(
    session: AsyncSession,
    tokens: TokenService,
    settings: Settings,
    *,
    username: str,
    password: str,
    client_address: str,
    keys: KeyProvider,
    otp: str | None = None,
    context: AuditContext | None = None,
) -> TokenPair:
    now = datetime.now(UTC)
    username = username.strip().lower()[:64]
    await throttle.lock_account(session, username)
    row = (
        await session.execute(
            select(User, col(Agency.is_active))
            .join(Agency, col(Agency.id) == col(User.agency_id))
            .where(col(User.username) == username)
        )
    ).one_or_none()
    user, agency_active = (row[0], row[1]) if row else (None, False)
    wait = await throttle.retry_after(session, settings, username, client_address, now)
    if wait is not None:
        await _record_auth(
            session, "auth.login", context, user.id if user else None, reason="locked_out"
        )
        raise TooManyRequests(wait, "Too many failed sign-in attempts; try again later.")
    ok = verify_password(password, user.password_hash if user else None)
    if not (ok and user is not None and user.is_active and agency_active):
        burst = await throttle.record_failure(session, settings, username, client_address, now)
        if burst and user is not None:
            await throttle.announce_burst(
                session,
                settings,
                context,
                resource_type="user",
                account_id=user.id,
                agency_id=user.agency_id,
            )
        if user is None:
            reason = "unknown_user"
        elif not ok:
            reason = "wrong_password"
        else:
            reason = "account_disabled"
        await _record_auth(session, "auth.login", context, user.id if user else None, reason=reason)
        raise InvalidCredentials()
    enrolled = await second_factor.is_enrolled(session, user.id)
    amr = "pwd"
    if enrolled:
        if not otp:
            await _record_auth(session, "auth.login", context, user.id, reason="mfa_required")
            raise MfaRequired("A one-time code (`otp`) from the authenticator app is required.")
        if not await second_factor.verify_second_factor(session, keys, user.id, otp, now):
            await throttle.record_failure(session, settings, username, client_address, now)
            await _record_auth(session, "auth.login", context, user.id, reason="wrong_otp")
            raise MfaRequired("The one-time code is wrong or was already used.")
        amr = "pwd otp"
    await throttle.clear_failures(session, username, client_address)
    restriction = None
    if user.must_change_password:
        restriction = "password_change"
    elif not enrolled and user.role in settings.mfa_roles:
        restriction = "mfa_enrolment"
    auth_session = AuthSession(user_id=user.id, created_at=now, amr=amr, restriction=restriction)
    session.add(auth_session)
    await session.flush()
    pair = await _issue(session, tokens, settings, user, auth_session, now)
    await audit.record(
        session,
        action="auth.login",
        resource_type="user",
        resource_id=user.id,
        context=_as_user(context, user, pair.token_id),
    )
    return pair


async def refresh_grant(
    session: AsyncSession,
    tokens: TokenService,
    settings: Settings,
    *,
    refresh_token: str,
    context: AuditContext | None = None,
) -> TokenPair:
    now = datetime.now(UTC)
    row = (
        await session.execute(
            select(RefreshToken, AuthSession, User)
            .join(AuthSession, col(AuthSession.id) == col(RefreshToken.session_id))
            .join(User, col(User.id) == col(AuthSession.user_id))
            .where(col(RefreshToken.token_hash) == hash_refresh_token(refresh_token))
            .with_for_update(of=RefreshToken)
        )
    ).one_or_none()
    if row is None:
        await _record_auth(session, "auth.refresh", context, None, reason="unknown_refresh_token")
        raise InvalidGrant("The refresh token is not valid.")
    stored, auth_session, user = row
    if stored.used_at is not None:
        await revoke_session(session, auth_session.id, reason="refresh_reuse", now=now)
        await _record_auth(session, "auth.refresh", context, user.id, reason="refresh_token_reused")
        raise InvalidGrant("The refresh token was already used; the session is revoked.")
    agency_active = (
        await session.execute(select(col(Agency.is_active)).where(col(Agency.id) == user.agency_id))
    ).scalar_one()
    if (
        auth_session.revoked_at is not None
        or stored.expires_at <= now
        or not user.is_active
        or not agency_active
        or (
            "otp" not in auth_session.amr.split()
            and auth_session.restriction is None
            and user.role in settings.mfa_roles
        )
    ):
        await _record_auth(
            session, "auth.refresh", context, user.id, reason="refresh_token_invalid"
        )
        raise InvalidGrant("The refresh token is not valid.")
    stored.used_at = now
    pair = await _issue(session, tokens, settings, user, auth_session, now)
    await audit.record(
        session,
        action="auth.refresh",
        resource_type="user",
        resource_id=user.id,
        context=_as_user(context, user, pair.token_id),
    )
    return pair


async def require_user(session: AsyncSession, principal: Principal, *, action: str) -> None:
    """Login sessions and profiles belong to users: an integration client has neither
    (403, audited as denied `not_a_user`; a client is ended by revoking it)."""
    if principal.actor_type == "user":
        return
    await audit.record(
        session,
        action=action,
        resource_type="user",
        principal=principal,
        outcome="denied",
        reason="not_a_user",
    )
    raise DeniedForbidden(
        "Integration clients have no user profile or login session; "
        "an agency admin revokes the client instead."
    )


async def logout(session: AsyncSession, principal: Principal) -> None:
    """End the caller's login session."""
    await require_user(session, principal, action="auth.logout")
    assert principal.session_id is not None
    await revoke_session(session, principal.session_id, reason="logout")
    await audit.record(
        session,
        action="auth.logout",
        resource_type="user",
        resource_id=principal.actor_id,
        principal=principal,
    )


async def revoke_session(
    session: AsyncSession, session_id: uuid.UUID, *, reason: str, now: datetime | None = None
) -> None:
    await session.execute(
        update(AuthSession)
        .where(col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now or datetime.now(UTC), revoked_reason=reason)
    )


async def revoke_user_sessions(session: AsyncSession, user_id: uuid.UUID, *, reason: str) -> None:
    """End every live login of a user (a new password must lock out whoever held the
    old one, refresh tokens included)."""
    await session.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=datetime.now(UTC), revoked_reason=reason)
    )
