"""Integration clients: another system acting for one agency with a few scopes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, Column, LargeBinary, String
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, timestamp_column, uuid_pk
from app.security.permissions import CLIENT_SCOPES

_ALLOWED = ", ".join(f"'{scope.value}'" for scope in sorted(CLIENT_SCOPES))


class IntegrationClient(SQLModel, table=True):
    """An OAuth 2 confidential client (RFC 6749 2.1) registered by an agency admin.

    Its id is the public `client_id`. Only the SHA-256 of its secret is kept, so the
    secret is shown once, at registration. It gets access tokens with the
    `client_credentials` grant and acts as its agency, limited to `scopes`. Revoking it
    (`revoked_at`) ends every token it holds at once, because each request re-checks it.
    """

    __tablename__ = "integration_clients"
    __table_args__ = (
        CheckConstraint("cardinality(scopes) > 0", name="scopes_not_empty"),
        # The database itself refuses a client with an administrative scope.
        CheckConstraint(f"scopes <@ ARRAY[{_ALLOWED}]::varchar[]", name="scopes_allowed"),
    )

    id: uuid.UUID = uuid_pk()
    agency_id: uuid.UUID = Field(foreign_key="agencies.id", index=True)
    # A label the admin chose ("Hệ thống quản lý ca của tỉnh"), not personal data.
    name: str = Field(max_length=200)
    scopes: list[str] = Field(sa_column=Column(ARRAY(String(40)), nullable=False))
    secret_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False), repr=False)
    # Who registered it; an admin user, kept without a users FK like other actor columns.
    created_by: uuid.UUID
    created_at: datetime = created_at_column()
    revoked_at: datetime | None = timestamp_column()
    revoked_by: uuid.UUID | None = Field(default=None)
    last_used_at: datetime | None = timestamp_column()
