"""TOTP enrolment (RFC 6238) and its recovery codes; verification at sign-in is in
`app.services.second_factor`.

Rules:
- Enrolment is two steps. `start_enrolment` makes a secret and answers it once (with
  its `otpauth://` URI for an authenticator app); `confirm_enrolment` takes a first
  code from the app, and only then is the user enrolled. A pending enrolment can be
  started again; a confirmed one cannot (409): an agency admin resets it first.
- The secret is 160 random bits (RFC 4226's recommended length), stored only wrapped
  by the key ring's KEK, bound to the user's id, inside the rotation barrier like a
  data key (`app.services.key_rotation` rewraps it).
- Confirming gives 10 recovery codes (80 random bits each, shown once, stored as
  SHA-256), each accepted once in place of a TOTP code.
- Enrolling ends every login session of the user, the caller's own included: the
  next sign-in is with a code.
- Audited: `auth.mfa.enrol` (started), `auth.mfa.confirm`; a reset is
  `user.mfa_reset` (`app.services.users`).
"""

from __future__ import annotations

import base64
import os
import secrets
import uuid

import pyotp
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.errors import Conflict, ValidationFailed
from app.models import MfaRecoveryCode, User, UserTotp
from app.models.base import utcnow
from app.security.keyring import KeyProvider
from app.security.principal import Principal
from app.services import auth as auth_service
from app.services.second_factor import (
    INTERVAL,
    base32_secret,
    enrolment,
    hash_recovery_code,
    matching_step,
    secret_context,
    totp_of,
)
from app.services.vault import rotation_barrier_shared

ISSUER = "VCM"
RECOVERY_CODES = 10
_RECOVERY_BYTES = 10  # 80 bits, 16 base32 characters
_KEY_BYTES = 32


def _new_recovery_code() -> str:
    text = base64.b32encode(secrets.token_bytes(_RECOVERY_BYTES)).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


async def start_enrolment(
    session: AsyncSession, keys: KeyProvider, principal: Principal
) -> tuple[str, str]:
    """A new pending enrolment of the caller: the secret and its otpauth URI."""
    await auth_service.require_user(session, principal, action="auth.mfa.enrol")
    user = await session.get(User, principal.actor_id)
    assert user is not None
    existing = await enrolment(session, user.id, for_update=True)
    if existing is not None and existing.confirmed_at is not None:
        raise Conflict("A second factor is already enrolled; an administrator resets it.")
    raw = os.urandom(_KEY_BYTES)
    await rotation_barrier_shared(session)
    wrapped = keys.wrap_dek(raw, context=secret_context(user.id))
    if existing is None:
        session.add(
            UserTotp(
                user_id=user.id,
                secret_kek_version=wrapped.kek_version,
                secret_wrapped=wrapped.blob,
            )
        )
    else:
        existing.secret_kek_version = wrapped.kek_version
        existing.secret_wrapped = wrapped.blob
        existing.created_at = utcnow()
        existing.last_used_step = None
    await session.flush()
    await audit.record(
        session,
        action="auth.mfa.enrol",
        resource_type="user",
        resource_id=user.id,
        principal=principal,
    )
    secret = base32_secret(raw)
    uri = pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )
    return secret, uri


async def confirm_enrolment(
    session: AsyncSession, keys: KeyProvider, principal: Principal, code: str
) -> list[str]:
    """Confirm the caller's pending enrolment with a first code; the recovery codes."""
    await auth_service.require_user(session, principal, action="auth.mfa.confirm")
    row = await enrolment(session, principal.actor_id, for_update=True)
    if row is None or row.confirmed_at is not None:
        raise Conflict("No pending enrolment: start one with POST /api/v1/auth/mfa/totp.")
    now = utcnow()
    step = matching_step(totp_of(keys, row), code.strip(), now, None)
    if step is None:
        raise ValidationFailed([{"field": "code", "message": "the code is wrong"}])
    row.confirmed_at = now
    row.last_used_step = step
    await session.execute(
        delete(MfaRecoveryCode).where(col(MfaRecoveryCode.user_id) == principal.actor_id)
    )
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(
        MfaRecoveryCode(user_id=principal.actor_id, code_hash=hash_recovery_code(c)) for c in codes
    )
    await auth_service.revoke_user_sessions(session, principal.actor_id, reason="mfa_enrolled")
    await session.flush()
    await audit.record(
        session,
        action="auth.mfa.confirm",
        resource_type="user",
        resource_id=principal.actor_id,
        principal=principal,
    )
    return codes


async def remove(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Forget the user's enrolment and recovery codes (an administrator's reset)."""
    await session.execute(delete(UserTotp).where(col(UserTotp.user_id) == user_id))
    await session.execute(delete(MfaRecoveryCode).where(col(MfaRecoveryCode.user_id) == user_id))
