"""What a replay of a create sent with an `Idempotency-Key` needs: never its body."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        PrimaryKeyConstraint("principal_id", "key", name="pk_idempotency_keys"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    principal_id: uuid.UUID
    key: str = Field(max_length=255)
    method: str = Field(max_length=10)
    path: str = Field(max_length=255)
    # A digest of the request, to refuse the key reused with another request.
    request_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    status_code: int
    # The created resource and where to read it again. No response body is kept: it
    # held masked identity and case numbers, which must not outlive an erasure.
    resource_id: uuid.UUID | None = None
    location: str | None = Field(default=None, max_length=512)
    created_at: datetime = created_at_column()
