"""Agencies (cơ quan): the unit that owns cases and employs users."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.models.base import created_at_column, uuid_pk


class Agency(SQLModel, table=True):
    __tablename__ = "agencies"

    id: uuid.UUID = uuid_pk()
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=255)
    kind: str = Field(foreign_key="agency_kinds.code", max_length=40, index=True)
    # National agencies have no province; every other agency has one.
    province_code: str | None = Field(
        default=None, foreign_key="provinces.code", max_length=2, index=True
    )
    commune_code: str | None = Field(default=None, max_length=10)
    # A border guard's posts: the provinces where it also receives persons, besides
    # its own (app/services/cases/jurisdiction.py). NULL: its own province only.
    post_province_codes: list[str] | None = Field(
        default=None, sa_column=Column(ARRAY(String(2)), nullable=True)
    )
    is_active: bool = Field(default=True)
    created_at: datetime = created_at_column()
