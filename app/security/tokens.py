"""Access tokens (JWT, EdDSA with a `kid`) and opaque refresh tokens.

Access tokens live at most 15 minutes, are signed with the key ring's current Ed25519
token key and verified against every key the ring still publishes (so a rotated key
keeps working until its tokens expire). Verification pins the algorithm list, the
header `typ` (`at+jwt`, RFC 9068), issuer, audience, expiry and not-before, so a
token with `alg: none`, another algorithm, a foreign key or a stray audience fails.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from app.security.keyring import KeyProvider, ed25519_jwk

ALGORITHMS = ["EdDSA"]
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - RFC 9068 media type, not a secret
_REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
# A user's token names its login session; an integration client's token has no session
# and says so (`act_type`), with its granted `scope` (RFC 9068 2.2.3) and `client_id`.
CLIENT_ACTOR = "client"
# Clock skew tolerated between hosts for exp/nbf.
LEEWAY_SECONDS = 30
# Verified tokens remembered per process (see `TokenService.verify_access_token`).
VERIFIED_CACHE_SIZE = 4096


class TokenError(Exception):
    """The token is not acceptable; the message names the check, never the token."""


@dataclass(frozen=True)
class AccessClaims:
    subject: uuid.UUID
    session_id: uuid.UUID | None
    token_id: str
    role: str
    agency_id: uuid.UUID
    expires_at: datetime
    actor_type: str = "user"
    # Integration clients only: the scopes this token was issued with.
    scopes: frozenset[str] | None = None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    expires_in: int


class TokenService:
    def __init__(self, keys: KeyProvider, *, issuer: str, audience: str, ttl_seconds: int):
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        # token -> (claims, kid): tokens whose signature and claims were checked.
        self._verified: OrderedDict[str, tuple[AccessClaims, str]] = OrderedDict()

    def issue_access_token(
        self,
        *,
        user_id: uuid.UUID,
        session_id: uuid.UUID,
        role: str,
        agency_id: uuid.UUID,
        amr: tuple[str, ...] = ("pwd",),
        now: datetime | None = None,
    ) -> IssuedToken:
        """A user's access token, bound to their login session; `amr` (RFC 8176) says
        how the user signed in: ["pwd"], or ["pwd", "otp"] with a second factor."""
        return self._sign(
            {"sub": str(user_id), "sid": str(session_id), "amr": list(amr)},
            role=role,
            agency_id=agency_id,
            now=now,
        )

    def issue_client_token(
        self,
        *,
        client_id: uuid.UUID,
        agency_id: uuid.UUID,
        role: str,
        scopes: frozenset[str],
        now: datetime | None = None,
    ) -> IssuedToken:
        """An access token for an integration client: no session, its scopes inside."""
        subject = {
            "sub": str(client_id),
            "client_id": str(client_id),
            "act_type": CLIENT_ACTOR,
            "scope": " ".join(sorted(scopes)),
        }
        return self._sign(subject, role=role, agency_id=agency_id, now=now)

    def _sign(
        self, subject: dict[str, Any], *, role: str, agency_id: uuid.UUID, now: datetime | None
    ) -> IssuedToken:
        now = now or datetime.now(UTC)
        signing = self._keys.token_signing_key()
        token_id = str(uuid.uuid4())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            **subject,
            "jti": token_id,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
            "role": role,
            "agency_id": str(agency_id),
        }
        token = jwt.encode(
            claims,
            signing.private_key,
            algorithm="EdDSA",
            headers={"kid": signing.kid, "typ": ACCESS_TOKEN_TYPE},
        )
        return IssuedToken(token=token, token_id=token_id, expires_in=self.ttl_seconds)

    def verify_access_token(self, token: str) -> AccessClaims:
        """The token's claims, or `TokenError`.

        A token that passed every check is remembered (bounded LRU, keyed by the exact
        token string), so a client's next requests skip the signature check and the
        JSON parsing. A remembered token still fails once it has expired or once its
        signing key has left the ring; anything that did not pass is never remembered.
        Revocation (logout, a disabled account or agency) is not the token's business:
        the principal check reads the database on every request.
        """
        hit = self._verified.get(token)
        if hit is not None:
            claims, kid = hit
            if claims.expires_at.timestamp() + LEEWAY_SECONDS <= time.time():
                del self._verified[token]
                raise TokenError("token expired")
            if kid in self._keys.token_verification_keys():
                self._verified.move_to_end(token)
                return claims
            del self._verified[token]
        claims, kid = self._verify(token)
        self._verified[token] = (claims, kid)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> tuple[AccessClaims, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError("malformed token") from exc
        if header.get("alg") not in ALGORITHMS:
            raise TokenError("algorithm not allowed")
        if header.get("typ") != ACCESS_TOKEN_TYPE:
            raise TokenError("wrong token type")
        kid = str(header.get("kid"))
        key = self._keys.token_verification_keys().get(kid)
        if key is None:
            raise TokenError("unknown signing key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": _REQUIRED_CLAIMS, "verify_signature": True},
            )
            if claims.get("act_type") == CLIENT_ACTOR:
                if claims["client_id"] != claims["sub"] or "sid" in claims:
                    raise TokenError("token rejected")
                client = AccessClaims(
                    subject=uuid.UUID(claims["sub"]),
                    session_id=None,
                    token_id=str(claims["jti"]),
                    role=str(claims.get("role", "")),
                    agency_id=uuid.UUID(claims["agency_id"]),
                    expires_at=datetime.fromtimestamp(claims["exp"], UTC),
                    actor_type=CLIENT_ACTOR,
                    scopes=frozenset(str(claims["scope"]).split()),
                )
                return client, kid
            if "act_type" in claims:
                raise TokenError("token rejected")
            user = AccessClaims(
                subject=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                token_id=str(claims["jti"]),
                role=str(claims.get("role", "")),
                agency_id=uuid.UUID(claims["agency_id"]),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            )
            return user, kid
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
            raise TokenError("token rejected") from exc

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys as a JWK Set (RFC 7517, OKP keys of RFC 8037)."""
        return {
            "keys": [
                ed25519_jwk(kid, key) for kid, key in self._keys.token_verification_keys().items()
            ]
        }


def new_refresh_token() -> tuple[str, bytes]:
    """A 256-bit opaque token and the SHA-256 that is all the database keeps of it."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
