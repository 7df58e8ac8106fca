"""A user's second factor: the TOTP secret (sealed) and single-use recovery codes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, timestamp_column, uuid_pk


class UserTotp(SQLModel, table=True):
    """A TOTP enrolment (RFC 6238). The secret is stored only wrapped by the key
    ring's KEK, bound to the user's id (`app.services.mfa`); it is pending until the
    user confirms a first code."""

    __tablename__ = "user_totp"

    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    secret_kek_version: int
    secret_wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = created_at_column()
    confirmed_at: datetime | None = timestamp_column()
    # The last time step (Unix time // 30) whose code was accepted: a code is good once.
    last_used_step: int | None = Field(default=None, sa_column=Column(BigInteger))

    def __repr__(self) -> str:
        return f"UserTotp(user_id={self.user_id}, secret=<redacted>)"


class MfaRecoveryCode(SQLModel, table=True):
    """A recovery code, accepted once in place of a TOTP code; stored as its SHA-256
    only (80 random bits: no offline guessing)."""

    __tablename__ = "mfa_recovery_codes"

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    code_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    created_at: datetime = created_at_column()
    used_at: datetime | None = timestamp_column()
