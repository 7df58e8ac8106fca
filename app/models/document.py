"""Photos and scanned documents of persons, encrypted with the person's data key."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, LargeBinary
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, uuid_pk

# Only formats whose metadata the service can strip (`app.services.image_metadata`).
DOCUMENT_MEDIA_TYPES: tuple[str, ...] = ("image/jpeg", "image/png")


class PersonDocument(SQLModel, table=True):
    """A photo or scanned document of a person, encrypted with the person's DEK.

    The bytes live wherever the `DocumentStore` puts them (`ciphertext` here for the
    PostgreSQL store, NULL when an object store holds them or after an erasure).
    `size` is the plaintext size after metadata stripping.
    """

    __tablename__ = "person_documents"
    __table_args__ = (
        CheckConstraint(
            "media_type IN (" + ", ".join(f"'{t}'" for t in DOCUMENT_MEDIA_TYPES) + ")",
            name="media_type",
        ),
        CheckConstraint("size >= 0", name="size"),
    )

    id: uuid.UUID = uuid_pk()
    person_id: uuid.UUID = Field(foreign_key="persons.id", ondelete="CASCADE", index=True)
    media_type: str = Field(max_length=64)
    size: int
    ciphertext: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True), repr=False
    )
    created_at: datetime = created_at_column()

    def __repr__(self) -> str:
        return (
            f"PersonDocument(id={self.id}, person_id={self.person_id}, "
            f"media_type={self.media_type!r}, size={self.size})"
        )

    __str__ = __repr__
