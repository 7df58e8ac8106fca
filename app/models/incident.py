"""Personal-data incidents and the notifications made about them
(`app.services.incidents`).

The description is typed by people and may name victims, but no one person's data
key fits an incident: it is ciphertext under the incident's own data key, which is
stored wrapped by the key ring's KEK (`description_key_wrapped`), as webhook
secrets are. `notify_by` is fixed at recording (detection plus the setting then in
force); `overdue_announced_at` marks that the sweep sent `incident.overdue`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, LargeBinary, text
from sqlmodel import Field, SQLModel

from app.domain.incidents import Nature, Recipient, Severity
from app.models.base import created_at_column, timestamp_column, uuid_pk


def _in(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


class Incident(SQLModel, table=True):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(f"nature IN ({_in(Nature)})", name="nature"),
        CheckConstraint(f"severity IN ({_in(Severity)})", name="severity"),
        CheckConstraint("persons_affected >= 0", name="persons_affected"),
        CheckConstraint("notify_by >= detected_at", name="notify_after_detection"),
        Index("ix_incidents_agency_detected", "agency_id", "detected_at"),
        # The overdue sweep: deadlines not yet announced.
        Index(
            "ix_incidents_unannounced",
            "notify_by",
            postgresql_where=text("overdue_announced_at IS NULL"),
        ),
    )

    id: uuid.UUID = uuid_pk()
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    detected_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    nature: str = Field(max_length=16)
    severity: str = Field(max_length=16)
    persons_affected: int
    description: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    description_kek_version: int
    description_key_wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    notify_by: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    overdue_announced_at: datetime | None = timestamp_column()
    created_at: datetime = created_at_column()
    created_by: uuid.UUID = Field(foreign_key="users.id")


class IncidentNotification(SQLModel, table=True):
    __tablename__ = "incident_notifications"
    __table_args__ = (CheckConstraint(f"recipient IN ({_in(Recipient)})", name="recipient"),)

    id: uuid.UUID = uuid_pk()
    incident_id: uuid.UUID = Field(foreign_key="incidents.id", ondelete="CASCADE", index=True)
    recipient: str = Field(max_length=16)
    notified_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    recorded_by: uuid.UUID = Field(foreign_key="users.id")
    created_at: datetime = created_at_column()
