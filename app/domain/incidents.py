"""Personal-data incidents: their codes (`app.services.incidents`)."""

from __future__ import annotations

import uuid
from enum import StrEnum

_KEY_CONTEXT = b"vcm-incident-key|v1|"


def key_context(incident_id: uuid.UUID) -> bytes:
    """The wrap context of an incident's data key (the KEK wraps it): bound to that
    incident, so a wrapped key copied to another row no longer unwraps."""
    return _KEY_CONTEXT + incident_id.bytes


class Nature(StrEnum):
    """Which property of the data the incident broke."""

    CONFIDENTIALITY = "confidentiality"
    INTEGRITY = "integrity"
    AVAILABILITY = "availability"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Recipient(StrEnum):
    """Who was notified: the data-protection authority, or the persons affected."""

    AUTHORITY = "authority"
    PERSONS = "persons"
