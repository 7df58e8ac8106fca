"""Request-level dependencies: the caller, their permission, request metadata."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlmodel import col

from app import audit
from app.db import get_session
from app.driver import DriverStatement
from app.errors import DeniedForbidden, DeniedNotFound, SessionRestricted, Unauthorized
from app.i18n import msg
from app.models import Agency, AuthSession, User
from app.security import proxies
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.security.permissions import Permission, Role
from app.security.principal import Principal
from app.security.tokens import CLIENT_ACTOR, TokenError, TokenService
from app.services.integration_clients import client_principal
from app.services.pagination import PageParams, page_params

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/token")


def client_address(request: Request) -> str:
    """The caller's address: the socket peer, or behind `VCM_TRUSTED_PROXIES` the
    right-most X-Forwarded-For hop that is not a trusted proxy (found once per request
    by the middleware, see `app.security.proxies`)."""
    known: str | None = request.scope.get("state", {}).get("client_address")
    if known is not None:
        return known
    settings = request.app.state.settings
    peer = request.client.host if request.client else None
    return proxies.client_address(
        peer, request.headers.getlist("x-forwarded-for"), settings.proxy_networks
    )[:64]


async def key_provider(request: Request) -> KeyProvider:
    keys: KeyProvider = request.app.state.keys
    return keys


async def blind_indexer(request: Request) -> BlindIndexer:
    indexer: BlindIndexer = request.app.state.indexer
    return indexer


KeysDep = Annotated[KeyProvider, Depends(key_provider)]
IndexerDep = Annotated[BlindIndexer, Depends(blind_indexer)]


def token_service(request: Request) -> TokenService:
    service: TokenService = request.app.state.tokens
    return service


# The user, agency and login session behind a user token, if all three are live:
# built once, executed with the token's ids.
_LIVE_USER = DriverStatement(
    select(
        col(User.id),
        col(User.role),
        col(User.agency_id),
        col(Agency.kind),
        col(Agency.province_code),
        col(AuthSession.restriction),
    )
    .join(Agency, col(Agency.id) == col(User.agency_id))
    .join(AuthSession, col(AuthSession.user_id) == col(User.id))
    .where(
        col(User.id) == bindparam("user_id"),
        col(AuthSession.id) == bindparam("session_id"),
        col(AuthSession.revoked_at).is_(None),
        col(User.is_active).is_(True),
        col(Agency.is_active).is_(True),
    )
)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]

# What a limited login session may call (`AuthSession.restriction`), and the problem
# type anything else answers: the one step it was issued for, the profile, logout.
_ALWAYS = {("GET", "/api/v1/auth/me"), ("POST", "/api/v1/auth/logout")}
_RESTRICTIONS: dict[str, tuple[frozenset[tuple[str, str]], str, str]] = {
    "password_change": (
        frozenset(_ALWAYS | {("POST", "/api/v1/auth/password")}),
        "password-change-required",
        msg(
            "An administrator set this password: change it (POST /api/v1/auth/password) "
            "and sign in again."
        ),
    ),
    "mfa_enrolment": (
        frozenset(
            _ALWAYS
            | {
                ("POST", "/api/v1/auth/mfa/totp"),
                ("POST", "/api/v1/auth/mfa/totp/confirm"),
                ("POST", "/api/v1/auth/password"),
            }
        ),
        "mfa-enrolment-required",
        msg(
            "Your role signs in with a second factor: enrol one "
            "(POST /api/v1/auth/mfa/totp) and sign in again with a code."
        ),
    ),
}

# Request scope key: the principal, once authenticated.
_PRINCIPAL = "vcm.principal"


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """Verify the bearer token, then check the user, agency and login session (or the
    integration client and its agency) are live; once per request.

    The database check runs on every request (one indexed join), so disabling a user,
    disabling an agency or logging out ends access at once. A limited session (after
    an administrator set the password, or before a required second factor is
    enrolled) reaches only the routes of that step (403 otherwise).

    A plain function behind `current_principal` and `require`, not a dependency of
    theirs: every dependency FastAPI solves costs a request about 30-50 us.
    """
    known: Principal | None = request.scope.get(_PRINCIPAL)
    if known is not None:
        return known
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer access token is required.", error="invalid_request")
    try:
        claims = token_service(request).verify_access_token(credentials.credentials)
    except TokenError as exc:
        # TokenError's reasons are literals in the catalog too.
        reason = msg(str(exc))
        raise Unauthorized(msg("The access token was rejected: {reason}.", reason=reason)) from exc
    session = await get_session(request)
    principal: Principal | None
    if claims.actor_type == CLIENT_ACTOR:
        principal = await client_principal(
            session,
            claims,
            client_address=client_address(request),
            request_id=getattr(request.state, "request_id", None),
        )
        if principal is None:
            raise Unauthorized("The integration client is revoked or its agency is disabled.")
    else:
        params = {"user_id": claims.subject, "session_id": claims.session_id}
        row = await _LIVE_USER.fetchrow(session, params)
        if row is None:
            raise Unauthorized("The session has ended or the account is disabled.")
        if row["restriction"] is not None:
            allowed, slug, detail = _RESTRICTIONS[row["restriction"]]
            if (request.method, request.url.path) not in allowed:
                raise SessionRestricted(slug, detail)
        principal = Principal(
            actor_id=row["id"],
            role=Role(row["role"]),
            agency_id=row["agency_id"],
            agency_kind=row["kind"],
            province_code=row["province_code"],
            token_id=claims.token_id,
            session_id=claims.session_id,
            client_address=client_address(request),
            request_id=getattr(request.state, "request_id", None),
        )
    request.scope[_PRINCIPAL] = request.state.principal = principal
    return principal


async def current_principal(request: Request, credentials: Credentials) -> Principal:
    """The authenticated caller (`authenticate`)."""
    return await authenticate(request, credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


# The audit resource type a permission guards ("users:read" guards users).
_PERMISSION_RESOURCE = {
    "agencies": "agency",
    "users": "user",
    "audit": "audit_event",
    "cases": "case",
    "persons": "person",
    "referrals": "referral",
    "hotline_reports": "hotline_report",
    "webhooks": "webhook",
    "integration_clients": "integration_client",
    "support_rates": "support_rate",
    "reports": "report",
}


def _path_record_id(request: Request) -> uuid.UUID | None:
    """The record a route addresses: its first path parameter that is a UUID (anything
    else typed into a URL is input, and stays out of the audit trail)."""
    for value in request.path_params.values():
        try:
            return uuid.UUID(str(value))
        except ValueError:
            continue
    return None


def require(
    permission: Permission,
    *,
    hide: bool = False,
    visible_to: Permission | None = None,
    or_else: Permission | None = None,
) -> Any:
    """Route guard: the caller must hold `permission` (or `or_else`, when given: the
    service then decides what the second one allows).

    `hide=True` answers 404 instead of 403, for case-data routes whose very existence
    must not be confirmed to a role that may not read case data (system admin);
    with `visible_to`, only to callers without that permission too (a caller who
    holds it knows the route and gets 403).
    Either way the denial is recorded in the audit trail (`access.denied`, with the
    permission as the reason and the addressed record's id when the path has one),
    and that row commits although the request fails.
    """

    async def guard(request: Request, credentials: Credentials) -> Principal:
        return await require_permission(
            request, credentials, permission, hide=hide, visible_to=visible_to, or_else=or_else
        )

    return Depends(guard)


async def require_permission(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    permission: Permission,
    *,
    hide: bool = False,
    visible_to: Permission | None = None,
    or_else: Permission | None = None,
) -> Principal:
    """The check behind `require`, for a route that needs it only sometimes."""
    principal = await authenticate(request, credentials)
    if not principal.can(permission) and not (or_else and principal.can(or_else)):
        await audit.record(
            await get_session(request),
            action="access.denied",
            resource_type=_PERMISSION_RESOURCE.get(
                permission.value.split(":")[0], permission.value.split(":")[0]
            ),
            resource_id=_path_record_id(request),
            principal=principal,
            outcome="denied",
            reason=f"missing_permission:{permission.value}",
        )
        if hide and (visible_to is None or not principal.can(visible_to)):
            raise DeniedNotFound()
        raise DeniedForbidden(
            msg("This action needs the '{permission}' permission.", permission=permission.value)
        )
    return principal


# The guards of the routes on case data. Hidden: a role without case rights learns
# nothing about which cases exist.
ReadCases = Annotated[Principal, require(Permission.CASES_READ, hide=True)]
WriteCases = Annotated[Principal, require(Permission.CASES_WRITE, hide=True)]
# A list's page: `limit` and `cursor`.
Paging = Annotated[PageParams, Depends(page_params)]


# How a read asks for identity in clear (API.md, "Identity reveal"): both are needed.
PurposeHeader = Annotated[
    str | None,
    Header(
        alias="X-Purpose-Of-Use",
        description="Why identity is revealed: case_management, investigation, protection, "
        "support_delivery, legal_proceedings or emergency.",
    ),
]
RevealQuery = Annotated[
    str | None, Query(description="`identity` reveals the values (needs a purpose).")
]
