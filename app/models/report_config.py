"""Report configuration kept as data: the reporting calendars and the hotspot communes.

- `report_calendars`: the named periods of the official returns, per kind
  (`six_monthly` → `YYYY-S1`, `YYYY-S2`; `quarterly` → `YYYY-Q1`..`Q4`; `annual` →
  `YYYY`). A row with `province_code` NULL is the default, used by every province
  without a row of its own for that kind. `periods` lists the periods of a year in
  order, each as `{"first": "MM-DD", "last": "MM-DD"}`; the last day falls in the
  named year and the first day in it too, or in the year before when it comes later
  in the year than the last day (`11-16` .. `05-15`). Together they cover every day
  exactly once (app/services/reports/calendars.py checks it).
- `hotspot_communes`: the communes a province watches as trafficking hotspots
  (địa bàn trọng điểm); the periodic return flags them in its breakdown by commune.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, PrimaryKeyConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

CALENDAR_KINDS = ("six_monthly", "quarterly", "annual")


class ReportCalendar(SQLModel, table=True):
    __tablename__ = "report_calendars"
    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in CALENDAR_KINDS)})", name="kind"),
        CheckConstraint("jsonb_typeof(periods) = 'array'", name="periods"),
        # One calendar per kind for each province, and one default per kind.
        Index(
            "uq_report_calendars_province_kind",
            "province_code",
            "kind",
            unique=True,
            postgresql_where=text("province_code IS NOT NULL"),
        ),
        Index(
            "uq_report_calendars_default_kind",
            "kind",
            unique=True,
            postgresql_where=text("province_code IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    province_code: str | None = Field(default=None, foreign_key="provinces.code", max_length=2)
    kind: str = Field(max_length=12)
    periods: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))


class HotspotCommune(SQLModel, table=True):
    __tablename__ = "hotspot_communes"
    __table_args__ = (PrimaryKeyConstraint("province_code", "commune_code"),)

    province_code: str = Field(foreign_key="provinces.code", max_length=2)
    commune_code: str = Field(max_length=10)
    # The commune's name as the return should print it (codes are all cases keep).
    name: str | None = Field(default=None, max_length=100)
