"""Login sessions, refresh tokens and failed-login records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Identity, Index, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, timestamp_column, uuid_pk


class AuthSession(SQLModel, table=True):
    """One login: the family of refresh tokens born from one password grant.

    Access tokens carry the session id (`sid`), so revoking the session (logout,
    refresh-token reuse) ends access at once, not only at the token's expiry.
    """

    __tablename__ = "auth_sessions"

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_at_column()
    revoked_at: datetime | None = timestamp_column()
    revoked_reason: str | None = Field(default=None, max_length=40)
    # How the user signed in (the token's `amr`, RFC 8176), space-separated: "pwd" or
    # "pwd otp"; a refreshed token says the same.
    amr: str = Field(default="pwd", max_length=32, sa_column_kwargs={"server_default": "pwd"})
    # A session that may only finish a step before real work (`app.services.mfa`):
    # "password_change" or "mfa_enrolment"; NULL for a full session.
    restriction: str | None = Field(default=None, max_length=24)


class RefreshToken(SQLModel, table=True):
    """An opaque refresh token, stored as its SHA-256 only; single use."""

    __tablename__ = "refresh_tokens"

    id: uuid.UUID = uuid_pk()
    session_id: uuid.UUID = Field(foreign_key="auth_sessions.id", index=True, ondelete="CASCADE")
    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    created_at: datetime = created_at_column()
    expires_at: datetime = timestamp_column(nullable=False)
    used_at: datetime | None = timestamp_column()


class LoginFailure(SQLModel, table=True):
    """A failed password grant, kept for the lockout window (in PostgreSQL so the limit
    holds across workers and hosts)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_failed_at", "username", "failed_at"),
        Index(
            "ix_login_failures_username_address_failed_at",
            "username",
            "client_address",
            "failed_at",
        ),
        Index("ix_login_failures_client_address_failed_at", "client_address", "failed_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    username: str = Field(max_length=64)
    client_address: str = Field(max_length=64)
    failed_at: datetime = timestamp_column(nullable=False)
