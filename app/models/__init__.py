"""Table models. Importing this package registers every table on the metadata."""

from app.models.agency import Agency
from app.models.audit import AuditCheckpoint, AuditEvent, AuditSeal
from app.models.auth import AuthSession, LoginFailure, RefreshToken
from app.models.case import Case, CaseNumberCounter, CasePerson, CaseTimelineEntry
from app.models.document import PersonDocument
from app.models.idempotency import IdempotencyRecord
from app.models.person import Person, PersonBlindIndex, PersonKey
from app.models.reference import AgencyKind, Province
from app.models.user import User

__all__ = [
    "Agency",
    "AgencyKind",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditSeal",
    "AuthSession",
    "Case",
    "CaseNumberCounter",
    "CasePerson",
    "CaseTimelineEntry",
    "IdempotencyRecord",
    "LoginFailure",
    "Person",
    "PersonBlindIndex",
    "PersonDocument",
    "PersonKey",
    "Province",
    "RefreshToken",
    "User",
]
