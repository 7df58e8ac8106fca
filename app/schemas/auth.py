"""OAuth 2 token endpoint shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import StrictInput


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type name
    expires_in: int
    refresh_token: str | None = None
    # client_credentials only: the scopes granted to this token, space-separated.
    scope: str | None = None


class TotpEnrolment(BaseModel):
    """Shown once: the TOTP secret (base32) and the URI an authenticator app reads
    (usually as a QR code)."""

    secret: str
    otpauth_uri: str


class TotpConfirm(StrictInput):
    code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")


class RecoveryCodes(BaseModel):
    """Shown once: each code signs in once in place of a TOTP code (`otp`)."""

    recovery_codes: list[str]


class PasswordChange(StrictInput):
    current_password: str = Field(max_length=1024)
    # Checked by the password policy, as for a password an administrator sets.
    new_password: str = Field(max_length=1024)
