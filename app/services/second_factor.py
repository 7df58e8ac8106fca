"""Checking a second factor at sign-in: a TOTP code (RFC 6238) or a recovery code.

Rules:
- A code is accepted for its 30-second step and the one either side (clock drift),
  and only for a step later than the last one accepted: a code is good once.
- A recovery code is accepted once; it is stored as its SHA-256 only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import datetime

import pyotp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import MfaRecoveryCode, UserTotp
from app.security.keyring import KeyProvider, WrappedKey

INTERVAL = 30
# Steps accepted either side of the current one.
DRIFT_STEPS = 1
_SECRET_CONTEXT = b"vcm-totp-secret|v1|"
_TOTP_KEY_BYTES = 20


def secret_context(user_id: uuid.UUID) -> bytes:
    return _SECRET_CONTEXT + user_id.bytes


def totp_of(keys: KeyProvider, row: UserTotp) -> pyotp.TOTP:
    raw = keys.unwrap_dek(
        WrappedKey(kek_version=row.secret_kek_version, blob=row.secret_wrapped),
        context=secret_context(row.user_id),
    )
    return pyotp.TOTP(base32_secret(raw), interval=INTERVAL)


def base32_secret(raw: bytes) -> str:
    # The KEK wraps 32-byte keys; the TOTP key is the first 160 bits of one.
    return base64.b32encode(raw[:_TOTP_KEY_BYTES]).decode("ascii")


def matching_step(totp: pyotp.TOTP, code: str, now: datetime, after: int | None) -> int | None:
    """The time step whose code is `code`, within the drift and later than `after`."""
    if not (len(code) == totp.digits and code.isdigit()):
        return None
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_recovery_code(code: str) -> bytes:
    return hashlib.sha256(_normalise(code).encode("ascii", "ignore")).digest()


async def enrolment(
    session: AsyncSession, user_id: uuid.UUID, *, for_update: bool = False
) -> UserTotp | None:
    statement = select(UserTotp).where(col(UserTotp.user_id) == user_id)
    if for_update:
        statement = statement.with_for_update()
    row: UserTotp | None = (await session.execute(statement)).scalar_one_or_none()
    return row


async def is_enrolled(session: AsyncSession, user_id: uuid.UUID) -> bool:
    found = await session.execute(
        select(col(UserTotp.user_id)).where(
            col(UserTotp.user_id) == user_id, col(UserTotp.confirmed_at).is_not(None)
        )
    )
    return found.first() is not None


async def verify_second_factor(
    session: AsyncSession, keys: KeyProvider, user_id: uuid.UUID, code: str, now: datetime
) -> bool:
    """True, and the code spent, if `code` is a TOTP code not used before or an unused
    recovery code of the user's confirmed enrolment."""
    row = await enrolment(session, user_id, for_update=True)
    if row is None or row.confirmed_at is None:
        return False
    code = code.strip()
    if code.isdigit():
        step = matching_step(totp_of(keys, row), code, now, row.last_used_step)
        if step is None:
            return False
        row.last_used_step = step
        await session.flush()
        return True
    used = await session.execute(
        update(MfaRecoveryCode)
        .where(
            col(MfaRecoveryCode.user_id) == user_id,
            col(MfaRecoveryCode.code_hash) == hash_recovery_code(code),
            col(MfaRecoveryCode.used_at).is_(None),
        )
        .values(used_at=now)
        .returning(col(MfaRecoveryCode.id))
    )
    return used.first() is not None
