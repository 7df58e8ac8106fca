"""Stored first answers to creates sent with an `Idempotency-Key`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, LargeBinary, PrimaryKeyConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (PrimaryKeyConstraint("principal_id", "key", name="pk_idempotency_keys"),)

    principal_id: uuid.UUID
    key: str = Field(max_length=255)
    method: str = Field(max_length=10)
    path: str = Field(max_length=255)
    request_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    status_code: int
    # The response body of a create holds ids and masked values only, never plaintext
    # identity; it is what the first call answered.
    response_body: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_column()
