"""Table models. Importing this package registers every table on the metadata."""

from app.models.agency import Agency
from app.models.audit import AuditCheckpoint, AuditEvent, AuditSeal
from app.models.auth import AuthSession, LoginFailure, RefreshToken
from app.models.break_glass import BreakGlass
from app.models.case import Case, CaseNumberCounter, CasePerson, CaseTimelineEntry
from app.models.case_records import (
    CaseConsent,
    CaseEvidence,
    IdentificationDecision,
    ProtectionMeasure,
)
from app.models.criminal import CriminalProceeding
from app.models.data_request import DataRequest, PublicHoliday
from app.models.document import PersonDocument
from app.models.hotline import HotlineReport, HotlineSuspectedVictim
from app.models.idempotency import IdempotencyRecord
from app.models.incident import Incident, IncidentNotification
from app.models.integration_client import IntegrationClient
from app.models.mfa import MfaRecoveryCode, UserTotp
from app.models.person import Person, PersonBlindIndex, PersonKey
from app.models.reference import AgencyKind, Province
from app.models.referral import Referral
from app.models.report_config import HotspotCommune, ReportCalendar
from app.models.support import SupportRate, SupportService
from app.models.user import User
from app.models.verification import CaseVerification
from app.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Agency",
    "AgencyKind",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditSeal",
    "AuthSession",
    "BreakGlass",
    "Case",
    "CaseConsent",
    "CaseEvidence",
    "CaseNumberCounter",
    "CasePerson",
    "CaseTimelineEntry",
    "CaseVerification",
    "CriminalProceeding",
    "DataRequest",
    "HotlineReport",
    "HotlineSuspectedVictim",
    "HotspotCommune",
    "IdempotencyRecord",
    "IdentificationDecision",
    "Incident",
    "IncidentNotification",
    "IntegrationClient",
    "LoginFailure",
    "MfaRecoveryCode",
    "Person",
    "PersonBlindIndex",
    "PersonDocument",
    "PersonKey",
    "ProtectionMeasure",
    "Province",
    "PublicHoliday",
    "Referral",
    "RefreshToken",
    "ReportCalendar",
    "SupportRate",
    "SupportService",
    "User",
    "UserTotp",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
