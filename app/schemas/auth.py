"""OAuth 2 token endpoint shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type name
    expires_in: int
    refresh_token: str | None = None
    # client_credentials only: the scopes granted to this token, space-separated.
    scope: str | None = None
