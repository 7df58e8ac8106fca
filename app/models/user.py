"""Users: staff of an agency, with one role."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, false, func
from sqlmodel import Field, Relationship, SQLModel

from app.models.agency import Agency
from app.models.base import created_at_column, utcnow, uuid_pk
from app.security.permissions import Role

# Integration clients have a role of their own but are never users.
_ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role if r is not Role.INTEGRATION_CLIENT)


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN ({_ROLE_VALUES})", name="role"),)

    id: uuid.UUID = uuid_pk()
    # Stored lower-cased by the service, so "An.Nguyen" and "an.nguyen" are one user.
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255, repr=False)
    full_name: str = Field(max_length=200, repr=False)
    role: str = Field(max_length=32)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id", index=True)
    is_active: bool = Field(default=True)
    # Set when an administrator sets the password: the next sign-in may only change it.
    must_change_password: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Optimistic concurrency: the ETag of a user is its version.
    version: int = Field(default=1)
    created_at: datetime = created_at_column()
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )

    agency: Agency = Relationship(sa_relationship_kwargs={"lazy": "raise"})
