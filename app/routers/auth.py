"""OAuth 2 token endpoint, logout, the caller's profile and the public signing keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from app import audit
from app.db import SessionDep, TransactionRoute
from app.deps import CurrentPrincipal, client_address, token_service
from app.errors import BadRequest
from app.schemas.auth import TokenResponse
from app.schemas.common import problem_responses
from app.schemas.user import Me
from app.security.permissions import ROLE_PERMISSIONS
from app.services import auth as auth_service
from app.services import integration_clients as clients_service
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
    otp: Annotated[str | None, Form(max_length=16)] = None,
    refresh_token: Annotated[str | None, Form(max_length=256)] = None,
    scope: Annotated[str | None, Form(max_length=512)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
) -> TokenResponse:
    """OAuth 2 token endpoint (form-encoded): `password`, `refresh_token` and
    `client_credentials` grants. Integration clients authenticate with HTTP Basic or
    `client_id` + `client_secret` in the form, may narrow `scope`, and get no refresh
    token."""
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
        role=principal.role,
        agency_kind=agency.kind,
        province_code=agency.province_code,
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[principal.role]),
    )


@wellknown.get("/.well-known/jwks.json")
async def jwks(request: Request) -> dict[str, list[dict[str, str]]]:
    """The public keys that verify access tokens (JWK Set)."""
    return token_service(request).jwks()
