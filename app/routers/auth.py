"""OAuth 2 token endpoint, logout, the caller's profile, their password and second
factor, and the public signing keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from app import audit
from app.db import SessionDep, TransactionRoute
from app.deps import CurrentPrincipal, KeysDep, client_address, token_service
from app.errors import BadRequest
from app.schemas.auth import (
    PasswordChange,
    RecoveryCodes,
    TokenResponse,
    TotpConfirm,
    TotpEnrolment,
)
from app.schemas.common import problem_responses
from app.schemas.user import Me
from app.security.permissions import ROLE_PERMISSIONS
from app.services import account as account_service
from app.services import auth as auth_service
from app.services import integration_clients as clients_service
from app.services import mfa as mfa_service
from app.services import second_factor
from app.services import users as users_service

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/auth",
    tags=["auth"],
    responses=problem_responses(400, 401, 429),
)
wellknown = APIRouter(route_class=TransactionRoute, tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post("/token", response_model=TokenResponse, response_model_exclude_none=True)
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    grant_type: Annotated[str, Form(max_length=40)],
    username: Annotated[str | None, Form(max_length=128)] = None,
    password: Annotated[str | None, Form(max_length=1024)] = None,
    otp: Annotated[str | None, Form(max_length=32)] = None,
    refresh_token: Annotated[str | None, Form(max_length=256)] = None,
    scope: Annotated[str | None, Form(max_length=512)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
) -> TokenResponse:
    """OAuth 2 token endpoint (form-encoded): `password`, `refresh_token` and
    `client_credentials` grants. Integration clients authenticate with HTTP Basic or
    `client_id` + `client_secret` in the form, may narrow `scope`, and get no refresh
    token.

    A user with a second factor sends its code as `otp` (a TOTP code, or a recovery
    code once): without it, or with a wrong or used one, 401 `mfa-required`. The
    access token's `amr` is ["pwd", "otp"] then, else ["pwd"]. After an administrator
    set the password, or while a role that needs a second factor has none enrolled,
    the tokens reach only that step (403 `password-change-required`,
    `mfa-enrolment-required` elsewhere)."""
    settings = request.app.state.settings
    tokens = token_service(request)
    if grant_type == "password":
        if not username or password is None:
            raise BadRequest(
                "username and password are required.", extra={"error": "invalid_request"}
            )
        pair = await auth_service.password_grant(
            session,
            tokens,
            settings,
            username=username,
            password=password,
            client_address=client_address(request),
            context=audit.context_from_request(request),
            keys=request.app.state.keys,
            otp=otp,
        )
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise BadRequest("refresh_token is required.", extra={"error": "invalid_request"})
        pair = await auth_service.refresh_grant(
            session,
            tokens,
            settings,
            refresh_token=refresh_token,
            context=audit.context_from_request(request),
        )
    elif grant_type == "client_credentials":
        granted = await clients_service.client_credentials_grant(
            session,
            tokens,
            settings,
            credentials=clients_service.client_credentials(
                request.headers.get("authorization"), client_id, client_secret
            ),
            scope=scope,
            client_address=client_address(request),
            context=audit.context_from_request(request),
        )
        response.headers.update(NO_STORE)
        return TokenResponse(
            access_token=granted.access_token, expires_in=granted.expires_in, scope=granted.scope
        )
    else:
        raise BadRequest(
            "Supported grant types: password, refresh_token, client_credentials.",
            extra={"error": "unsupported_grant_type"},
        )
    response.headers.update(NO_STORE)
    return TokenResponse(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


@router.post("/logout", status_code=204, responses=problem_responses(401, 403))
async def logout(session: SessionDep, principal: CurrentPrincipal) -> Response:
    """End the caller's login session: its refresh tokens and access tokens stop working.
    An integration client has no login session (403)."""
    await auth_service.logout(session, principal)
    return Response(status_code=204)


@router.get("/me", response_model=Me, responses=problem_responses(401, 403))
async def me(session: SessionDep, principal: CurrentPrincipal) -> Me:
    """The signed-in user; an integration client has no profile (403)."""
    await auth_service.require_user(session, principal, action="user.read")
    user, agency = await users_service.profile(session, principal)
    return Me(
        **user.model_dump(exclude={"password_hash", "version", "role"}),
        mfa_enrolled=await second_factor.is_enrolled(session, user.id),
        role=principal.role,
        agency_kind=agency.kind,
        province_code=agency.province_code,
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[principal.role]),
    )


@router.post("/password", status_code=204, responses=problem_responses(401, 403, 422))
async def change_password(
    request: Request, session: SessionDep, principal: CurrentPrincipal, body: PasswordChange
) -> Response:
    """Change the caller's own password: the current one is required (403 if wrong,
    counted like a failed sign-in), the new one passes the password policy (422).
    Every session of the caller ends, this one included: sign in again."""
    await account_service.change_password(
        session,
        request.app.state.settings,
        principal,
        current_password=body.current_password,
        new_password=body.new_password,
        client_address=client_address(request),
    )
    return Response(status_code=204)


@router.post(
    "/mfa/totp",
    response_model=TotpEnrolment,
    responses=problem_responses(401, 403, 409),
)
async def start_totp(
    response: Response, session: SessionDep, keys: KeysDep, principal: CurrentPrincipal
) -> TotpEnrolment:
    """Start enrolling a TOTP authenticator: the secret and its `otpauth://` URI, shown
    once. Confirm with a first code; 409 when one is already enrolled."""
    secret, uri = await mfa_service.start_enrolment(session, keys, principal)
    response.headers.update(NO_STORE)
    return TotpEnrolment(secret=secret, otpauth_uri=uri)


@router.post(
    "/mfa/totp/confirm",
    response_model=RecoveryCodes,
    responses=problem_responses(401, 403, 409, 422),
)
async def confirm_totp(
    response: Response,
    session: SessionDep,
    keys: KeysDep,
    principal: CurrentPrincipal,
    body: TotpConfirm,
) -> RecoveryCodes:
    """Confirm the enrolment with a code from the app: 10 single-use recovery codes,
    shown once. Every session of the caller ends: sign in again with a code."""
    codes = await mfa_service.confirm_enrolment(session, keys, principal, body.code)
    response.headers.update(NO_STORE)
    return RecoveryCodes(recovery_codes=codes)


@wellknown.get("/.well-known/jwks.json")
async def jwks(request: Request) -> dict[str, list[dict[str, str]]]:
    """The public keys that verify access tokens (JWK Set)."""
    return token_service(request).jwks()
