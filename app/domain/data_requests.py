"""The rights of the person (Law 91/2025 on personal data): the kinds of request a
person or their legal representative makes, who made it, and where it stands."""

from __future__ import annotations

from enum import StrEnum


class RequestKind(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    CONSENT_WITHDRAWAL = "consent_withdrawal"


class Requester(StrEnum):
    SELF = "self"
    LEGAL_REPRESENTATIVE = "legal_representative"


class Channel(StrEnum):
    IN_PERSON = "in_person"
    LETTER = "letter"
    PHONE = "phone"
    EMAIL = "email"
    HOTLINE = "hotline"
    OTHER = "other"


class RequestStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    REJECTED = "rejected"
