"""Roles and what each may do: the one permission table.

Record-level rules (which agency's users or cases a principal reaches) live beside
this in `app.security.access`. A route declares the permission it needs; a principal
without it gets 403 for administrative functions, while anything tied to a record the
caller cannot reach answers 404 (see `access`).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SYSTEM_ADMIN = "system_admin"
    AGENCY_ADMIN = "agency_admin"
    SUPERVISOR = "supervisor"
    CASE_WORKER = "case_worker"
    HOTLINE_OPERATOR = "hotline_operator"
    AUDITOR = "auditor"
    ANALYST = "analyst"
    # The province's reporting officer (cán bộ đầu mối báo cáo): compiles the official
    # returns, the only role that reads exact figures (`reports:exact`).
    REPORTING_OFFICER = "reporting_officer"
    # Not a user role: the role of every integration client's principal (the users API
    # refuses to give it, see MANAGEABLE_ROLES); its scopes narrow it further.
    INTEGRATION_CLIENT = "integration_client"


class Permission(StrEnum):
    AGENCIES_READ = "agencies:read"
    AGENCIES_MANAGE = "agencies:manage"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    SUPPORT_RATES_MANAGE = "support_rates:manage"
    HOTLINE_REPORTS_WRITE = "hotline_reports:write"
    HOTLINE_REPORTS_READ = "hotline_reports:read"
    HOTLINE_REPORTS_REVEAL = "hotline_reports:reveal_identity"
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    CASES_REVEAL_IDENTITY = "cases:reveal_identity"
    CASES_APPROVE = "cases:approve"
    CASES_ACCESS_LOG = "cases:access_log"
    # Break-glass: an emergency read of a case outside the caller's normal access, for
    # a limited time, reviewed afterwards by an auditor (`app.services.break_glass`).
    # Held by the case-working roles and hotline operators; only agencies whose kind
    # has the `emergency_access` function (police, hotline) may use it.
    CASES_BREAK_GLASS = "cases:break_glass"
    REFERRALS_READ = "referrals:read"
    REFERRALS_WRITE = "referrals:write"
    WEBHOOKS_MANAGE = "webhooks:manage"
    INTEGRATION_CLIENTS_MANAGE = "integration_clients:manage"
    AUDIT_READ = "audit:read"
    # The auditors' review of break-glass reads (their reasons, and a verdict).
    BREAK_GLASS_REVIEW = "break_glass:review"
    # Personal-data incidents: record them and their notifications (system and agency
    # administrators, an agency's own; a system administrator's are national), and read
    # them (the same, and auditors, over all agencies).
    INCIDENTS_MANAGE = "incidents:manage"
    INCIDENTS_READ = "incidents:read"
    # The record of processing activities (`GET /reports/processing-record`): auditors
    # and system administrators.
    PROCESSING_RECORD_READ = "processing_record:read"
    REPORTS_READ = "reports:read"
    # Exact, unsuppressed figures (the periodic return); every read is audited.
    REPORTS_EXACT = "reports:exact"
    PERSONS_ERASE = "persons:erase"
    # Prometheus text at /metrics, which in production answers only this scope.
    METRICS_READ = "metrics:read"


P = Permission
_CASE_WORK = {
    P.AGENCIES_READ,
    P.CASES_READ,
    P.CASES_WRITE,
    P.CASES_REVEAL_IDENTITY,
    P.REFERRALS_READ,
    P.REFERRALS_WRITE,
    P.HOTLINE_REPORTS_READ,
    P.CASES_BREAK_GLASS,
}

# What an agency admin may grant an integration client, and so all a client can ever
# do: read its agency's cases and referrals, send referrals, and read the service's
# metrics (a Prometheus scraper; request counts by route, nothing about cases). Never administration
# (users, agencies, webhooks, clients), audit, reveal or case writes.
CLIENT_SCOPES = frozenset(
    {P.REFERRALS_READ, P.REFERRALS_WRITE, P.CASES_READ, P.AGENCIES_READ, P.METRICS_READ}
)

# A system administrator runs the system (agencies, admins, rates, erasure orders)
# and reads no case data; an auditor reads the audit trail and reviews break-glass
# reads (their reasons included), nothing else.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SYSTEM_ADMIN: frozenset(
        {
            P.AGENCIES_READ,
            P.AGENCIES_MANAGE,
            P.USERS_READ,
            P.USERS_MANAGE,
            P.SUPPORT_RATES_MANAGE,
            P.PERSONS_ERASE,
            P.INCIDENTS_MANAGE,
            P.INCIDENTS_READ,
            P.PROCESSING_RECORD_READ,
        }
    ),
    Role.AGENCY_ADMIN: frozenset(
        {
            P.AGENCIES_READ,
            P.USERS_READ,
            P.USERS_MANAGE,
            P.WEBHOOKS_MANAGE,
            P.INTEGRATION_CLIENTS_MANAGE,
            P.INCIDENTS_MANAGE,
            P.INCIDENTS_READ,
        }
    ),
    Role.SUPERVISOR: frozenset(_CASE_WORK | {P.CASES_APPROVE, P.CASES_ACCESS_LOG, P.REPORTS_READ}),
    Role.CASE_WORKER: frozenset(_CASE_WORK),
    Role.HOTLINE_OPERATOR: frozenset(
        {P.AGENCIES_READ, P.HOTLINE_REPORTS_WRITE, P.HOTLINE_REPORTS_READ}
        | {P.HOTLINE_REPORTS_REVEAL, P.CASES_BREAK_GLASS}
    ),
    Role.AUDITOR: frozenset(
        {
            P.AGENCIES_READ,
            P.AUDIT_READ,
            P.BREAK_GLASS_REVIEW,
            P.INCIDENTS_READ,
            P.PROCESSING_RECORD_READ,
        }
    ),
    # Analysts and supervisors read suppressed statistics only; exact figures go to
    # the reporting officer, who sends the return up.
    Role.ANALYST: frozenset({P.AGENCIES_READ, P.REPORTS_READ}),
    Role.REPORTING_OFFICER: frozenset({P.AGENCIES_READ, P.REPORTS_READ, P.REPORTS_EXACT}),
    Role.INTEGRATION_CLIENT: frozenset(CLIENT_SCOPES),
}

# Which roles each administrator may give, take away or edit. System administrators
# manage the system-wide roles and the agency administrators; an agency administrator
# manages the working staff of their own agency only.
MANAGEABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.SYSTEM_ADMIN: frozenset(
        {Role.SYSTEM_ADMIN, Role.AGENCY_ADMIN, Role.AUDITOR, Role.ANALYST}
    ),
    Role.AGENCY_ADMIN: frozenset(
        {
            Role.SUPERVISOR,
            Role.CASE_WORKER,
            Role.HOTLINE_OPERATOR,
            Role.ANALYST,
            Role.REPORTING_OFFICER,
        }
    ),
}


def has_permission(role: Role | str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
