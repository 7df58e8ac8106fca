"""Integration clients: registration by an agency admin, the `client_credentials`
grant, and turning a client's access token back into a principal.

Rules:
- An agency admin registers, lists, reads and revokes the clients of their own agency
  only; another agency's client answers 404 (and a denied audit row, `out_of_reach`).
- The secret is 256 random bits, shown once in the registration response. Only its
  SHA-256 is stored (see `hash_secret`), and the comparison is constant-time.
- A client acts as its agency with only its scopes (a subset of `CLIENT_SCOPES`, so
  never administration, audit, identity reveal or case writes). A token request may
  narrow the scopes (`scope`), never widen them (400 `invalid_scope`).
- Every request with a client token re-checks that the client is not revoked and its
  agency is active, so revoking a client ends its live tokens at once.
- Failed client authentication counts in the failed-login table like a password
  failure (key `client:<client_id>` and the caller's address), so the same throttle,
  429 and burst notice (`integration_client.login_burst`) apply
  (`app.services.login_throttle`).
- Audited: `integration_client.create|list|read|revoke`; `auth.client_credentials`
  success (as the client) or denied (`unknown_client`, `wrong_secret`,
  `client_revoked`, `agency_disabled`, `locked_out`, `invalid_scope`,
  `no_client_authentication`). Failures raise `keep_work` errors, so the rows commit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import unquote_plus

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.audit import AuditContext
from app.config import Settings
from app.errors import AppError, BadRequest, TooManyRequests
from app.models import Agency, IntegrationClient
from app.schemas.integration_clients import IntegrationClientCreate
from app.security.permissions import Role
from app.security.principal import Principal
from app.security.tokens import AccessClaims, TokenService
from app.services import login_throttle as throttle
from app.services.pagination import PageParams, page_of, paginate
from app.services.reach import load_readable

SECRET_PREFIX = "vcmcs_"  # noqa: S105 - a marker that makes leaked secrets greppable
RESOURCE = "integration_client"


class InvalidClient(AppError):
    """Client authentication failed (RFC 6749 5.2 `invalid_client`): the same answer for
    an unknown client, a wrong secret, a revoked client or a disabled agency."""

    status, slug = 401, "invalid-client"
    title_en, title_vi = (
        "Client authentication failed",
        "Xác thực ứng dụng tích hợp không thành công",
    )
    keep_work: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__(
            headers={"WWW-Authenticate": 'Basic realm="vcm"'}, extra={"error": "invalid_client"}
        )


class InvalidScope(AppError):
    """The token request asked for a scope the client was not granted (RFC 6749 5.2)."""

    status, slug = 400, "invalid-scope"
    title_en, title_vi = "Scope not granted", "Phạm vi quyền không được cấp"
    keep_work: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__(
            "The requested scope exceeds the scopes granted to this client.",
            extra={"error": "invalid_scope"},
        )


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    # A plain SHA-256 is right here, unlike for passwords: the secret is 256 random
    # bits, so there is no dictionary to try and a slow hash (argon2) would only cost
    # CPU on every token request without making a stolen hash any harder to reverse.
    return hashlib.sha256(secret.encode("utf-8")).digest()


# Compared against when the client is unknown, so both paths do the same work.
_NO_SUCH_SECRET = hash_secret(new_secret())


# --- administration -----------------------------------------------------------------


def readable_clients(principal: Principal) -> Select[Any]:
    """The clients this admin may see: those of their own agency."""
    return select(IntegrationClient).where(col(IntegrationClient.agency_id) == principal.agency_id)


async def create_client(
    session: AsyncSession, principal: Principal, data: IntegrationClientCreate
) -> tuple[IntegrationClient, str]:
    """Register a client for the admin's agency; returns it and its secret (the only
    time the plaintext exists outside the caller)."""
    secret = new_secret()
    client = IntegrationClient(
        agency_id=principal.agency_id,
        name=data.name,
        scopes=sorted({s.value for s in data.scopes}),
        secret_hash=hash_secret(secret),
        created_by=principal.actor_id,
    )
    session.add(client)
    await session.flush()
    await audit.record(
        session,
        action="integration_client.create",
        resource_type=RESOURCE,
        resource_id=client.id,
        principal=principal,
        fields=("name", "scopes"),
    )
    return client, secret


async def list_clients(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[IntegrationClient], str | None]:
    statement = paginate(
        readable_clients(principal),
        params,
        col(IntegrationClient.created_at),
        col(IntegrationClient.id),
    )
    rows = list((await session.execute(statement)).scalars())
    await audit.record(
        session, action="integration_client.list", resource_type=RESOURCE, principal=principal
    )
    return page_of(rows, params, lambda c: (c.created_at, c.id))


async def _load(
    session: AsyncSession,
    principal: Principal,
    client_id: uuid.UUID,
    *,
    action: str,
    for_update: bool = False,
) -> IntegrationClient:
    client: IntegrationClient = await load_readable(
        session,
        principal,
        readable_clients(principal),
        col(IntegrationClient.id),
        client_id,
        resource_type=RESOURCE,
        action=action,
        for_update=for_update,
    )
    return client


async def get_client(
    session: AsyncSession, principal: Principal, client_id: uuid.UUID
) -> IntegrationClient:
    client = await _load(session, principal, client_id, action="integration_client.read")
    await audit.record(
        session,
        action="integration_client.read",
        resource_type=RESOURCE,
        resource_id=client.id,
        principal=principal,
    )
    return client


async def revoke_client(
    session: AsyncSession, principal: Principal, client_id: uuid.UUID
) -> IntegrationClient:
    """Revoke a client: its tokens stop working with the next request. Revoking a
    revoked client changes nothing (a retry is safe) and is recorded as such."""
    client = await _load(
        session, principal, client_id, action="integration_client.revoke", for_update=True
    )
    already = client.revoked_at is not None
    if not already:
        client.revoked_at = datetime.now(UTC)
        client.revoked_by = principal.actor_id
        await session.flush()
    await audit.record(
        session,
        action="integration_client.revoke",
        resource_type=RESOURCE,
        resource_id=client.id,
        principal=principal,
        fields=() if already else ("revoked_at",),
        reason="already_revoked" if already else None,
    )
    return client


# --- the client_credentials grant ---------------------------------------------------


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def client_credentials(
    authorization: str | None, form_id: str | None, form_secret: str | None
) -> ClientCredentials | None:
    """The client's id and secret from HTTP Basic or the form body (RFC 6749 2.3.1),
    None when neither is given. Using both at once is refused (400 invalid_request)."""
    basic = None
    if authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest(
                "The Basic credentials are malformed.", extra={"error": "invalid_request"}
            ) from exc
        user, sep, password = decoded.partition(":")
        if not sep:
            raise BadRequest(
                "The Basic credentials are malformed.", extra={"error": "invalid_request"}
            )
        # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
        basic = ClientCredentials(unquote_plus(user), unquote_plus(password))
    if basic is not None and (form_id or form_secret):
        raise BadRequest(
            "Send client credentials by one method only.", extra={"error": "invalid_request"}
        )
    if basic is not None:
        return basic
    if form_id and form_secret:
        return ClientCredentials(form_id, form_secret)
    return None


@dataclass(frozen=True)
class ClientToken:
    access_token: str
    expires_in: int
    scope: str
    client_id: uuid.UUID


def _as_client(
    context: AuditContext | None, client: IntegrationClient, token_id: str | None
) -> AuditContext:
    base = context or AuditContext()
    return AuditContext(
        request_id=base.request_id,
        client_address=base.client_address,
        actor_id=client.id,
        actor_type="client",
        agency_id=client.agency_id,
        role=Role.INTEGRATION_CLIENT.value,
        token_id=token_id,
    )


async def _refuse(
    session: AsyncSession,
    context: AuditContext | None,
    client_id: uuid.UUID | None,
    reason: str,
) -> None:
    base = context or AuditContext()
    await audit.record(
        session,
        action="auth.client_credentials",
        resource_type=RESOURCE,
        resource_id=client_id,
        context=AuditContext(
            request_id=base.request_id, client_address=base.client_address, actor_type="anonymous"
        ),
        outcome="denied",
        reason=reason,
    )


def _parse_client_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def client_credentials_grant(
    session: AsyncSession,
    tokens: TokenService,
    settings: Settings,
    *,
    credentials: ClientCredentials | None,
    scope: str | None,
    client_address: str,
    context: AuditContext | None = None,
) -> ClientToken:
    """Authenticate the client and issue an access token (no refresh token: the client
    simply asks again with its secret)."""
    if credentials is None:
        await _refuse(session, context, None, "no_client_authentication")
        raise InvalidClient()
    now = datetime.now(UTC)
    client_id = _parse_client_id(credentials.client_id)
    failure_key = f"client:{client_id or credentials.client_id[:40]}"[:64]
    await throttle.lock_account(session, failure_key)
    row = None
    if client_id is not None:
        row = (
            await session.execute(
                select(IntegrationClient, col(Agency.is_active))
                .join(Agency, col(Agency.id) == col(IntegrationClient.agency_id))
                .where(col(IntegrationClient.id) == client_id)
            )
        ).one_or_none()
    client, agency_active = (row[0], row[1]) if row else (None, False)
    known_id = client.id if client else None
    wait = await throttle.retry_after(session, settings, failure_key, client_address, now)
    if wait is not None:
        await _refuse(session, context, known_id, "locked_out")
        raise TooManyRequests(wait, "Too many failed attempts; try again later.")
    stored = client.secret_hash if client else _NO_SUCH_SECRET
    secret_ok = hmac.compare_digest(stored, hash_secret(credentials.client_secret))
    reason = None
    if client is None:
        reason = "unknown_client"
    elif not secret_ok:
        reason = "wrong_secret"
    elif client.revoked_at is not None:
        reason = "client_revoked"
    elif not agency_active:
        reason = "agency_disabled"
    if client is None or reason is not None:
        burst = await throttle.record_failure(session, settings, failure_key, client_address, now)
        if burst and client is not None:
            await throttle.announce_burst(
                session,
                settings,
                context,
                resource_type=RESOURCE,
                account_id=client.id,
                agency_id=client.agency_id,
            )
        await _refuse(session, context, known_id, reason or "unknown_client")
        raise InvalidClient()
    granted = frozenset(client.scopes)
    requested = frozenset((scope or "").split()) or granted
    if not requested <= granted:
        await _refuse(session, context, client.id, "invalid_scope")
        raise InvalidScope()
    issued = tokens.issue_client_token(
        client_id=client.id,
        agency_id=client.agency_id,
        role=Role.INTEGRATION_CLIENT.value,
        scopes=requested,
        now=now,
    )
    client.last_used_at = now
    await throttle.clear_failures(session, failure_key, client_address)
    await session.flush()
    await audit.record(
        session,
        action="auth.client_credentials",
        resource_type=RESOURCE,
        resource_id=client.id,
        context=_as_client(context, client, issued.token_id),
    )
    return ClientToken(issued.token, issued.expires_in, " ".join(sorted(requested)), client.id)


# --- requests made with a client token ----------------------------------------------


async def client_principal(
    session: AsyncSession,
    claims: AccessClaims,
    *,
    client_address: str | None,
    request_id: str | None,
) -> Principal | None:
    """The principal of a client token, or None when the client is revoked, its agency
    disabled or moved, or gone. Scopes are the token's, within the client's own."""
    row = (
        await session.execute(
            select(
                col(IntegrationClient.id),
                col(IntegrationClient.scopes),
                col(IntegrationClient.agency_id),
                col(Agency.kind),
                col(Agency.province_code),
            )
            .join(Agency, col(Agency.id) == col(IntegrationClient.agency_id))
            .where(
                col(IntegrationClient.id) == claims.subject,
                col(IntegrationClient.agency_id) == claims.agency_id,
                col(IntegrationClient.revoked_at).is_(None),
                col(Agency.is_active).is_(True),
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return Principal(
        actor_id=row.id,
        role=Role.INTEGRATION_CLIENT,
        agency_id=row.agency_id,
        agency_kind=row.kind,
        province_code=row.province_code,
        token_id=claims.token_id,
        client_address=client_address,
        request_id=request_id,
        actor_type="client",
        scopes=frozenset(claims.scopes or ()) & frozenset(row.scopes),
    )
