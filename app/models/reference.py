"""Reference data kept as rows, so the next reorganisation is a data change."""

from __future__ import annotations

from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


class Province(SQLModel, table=True):
    """A province-level unit (tỉnh, thành phố trực thuộc trung ương), current code."""

    __tablename__ = "provinces"

    code: str = Field(primary_key=True, max_length=2)
    name: str = Field(max_length=100)


class AgencyKind(SQLModel, table=True):
    """A kind of agency and the functions it may perform (DOMAIN.md, "Agencies")."""

    __tablename__ = "agency_kinds"

    code: str = Field(primary_key=True, max_length=40)
    name_vi: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    functions: list[str] = Field(sa_column=Column(ARRAY(String(40)), nullable=False))
    # Provincial kinds belong to a province; national ones (ministries, hotline 111,
    # missions abroad) have none.
    provincial: bool = Field(default=True)
