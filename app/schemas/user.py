"""API shapes of users. `password` is write-only: no response schema has it."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.schemas.common import StrictInput
from app.security.permissions import Role

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$"


class UserCreate(StrictInput):
    username: str = Field(pattern=USERNAME_PATTERN)
    # Length is checked by the policy (8..128) with the common-password list, so
    # the caller gets every reason in one 422.
    password: str = Field(max_length=1024)
    full_name: str = Field(min_length=1, max_length=200)
    role: Role
    agency_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the caller's agency."
    )


class UserUpdate(StrictInput):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    agency_id: uuid.UUID | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, max_length=1024)


class UserPublic(BaseModel):
    id: uuid.UUID
    username: str
    full_name: str
    role: Role
    agency_id: uuid.UUID
    is_active: bool
    created_at: datetime
    updated_at: datetime


class Me(UserPublic):
    mfa_enrolled: bool = False
    must_change_password: bool = False
    agency_kind: str
    province_code: str | None
    permissions: list[str]
