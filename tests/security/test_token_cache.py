"""The verified-token memory of `TokenService.verify_access_token`: a remembered token
skips the signature check, but never outlives its expiry or its signing key, and a
token that failed is never remembered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.security import tokens as tokens_module
from app.security.keyring import SigningKey
from app.security.tokens import LEEWAY_SECONDS, TokenError, TokenService


@dataclass
class Ring:
    """Just the token keys of a key ring; `published` is what verification may use."""

    signing: SigningKey
    published: dict[str, Ed25519PublicKey]

    def token_signing_key(self) -> SigningKey:
        return self.signing

    def token_verification_keys(self) -> dict[str, Ed25519PublicKey]:
        return dict(self.published)


def _ring() -> Ring:
    private = Ed25519PrivateKey.generate()
    signing = SigningKey(kid="tok-test", private_key=private)
    return Ring(signing, {"tok-test": private.public_key()})


def _service(ring: Ring) -> TokenService:
    return TokenService(ring, issuer="urn:vcm", audience="urn:vcm:api", ttl_seconds=300)  # type: ignore[arg-type]


def _issue(service: TokenService, now: datetime | None = None) -> str:
    return service.issue_access_token(
        user_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        role="case_worker",
        agency_id=uuid.uuid4(),
        now=now,
    ).token


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        calls.append(token)
        return real(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tokens_module.jwt, "decode", counting)
    return calls


def test_a_verified_token_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service(_ring())
    token = _issue(service)
    decodes = _count_decodes(monkeypatch)
    first = service.verify_access_token(token)
    assert service.verify_access_token(token) == first
    assert decodes == [token]


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service(_ring())
    token = _issue(service)
    claims = service.verify_access_token(token)
    later = claims.expires_at.timestamp() + LEEWAY_SECONDS + 1
    monkeypatch.setattr(tokens_module.time, "time", lambda: later)
    with pytest.raises(TokenError, match="expired"):
        service.verify_access_token(token)


def test_a_remembered_token_dies_with_its_signing_key() -> None:
    ring = _ring()
    service = _service(ring)
    token = _issue(service)
    service.verify_access_token(token)
    ring.published.clear()  # the key left the ring
    with pytest.raises(TokenError, match="unknown signing key"):
        service.verify_access_token(token)


def test_a_rejected_token_is_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    service = _service(_ring())
    expired = _issue(service, now=datetime.now(UTC) - timedelta(hours=1))
    decodes = _count_decodes(monkeypatch)
    for _ in range(2):
        with pytest.raises(TokenError, match="expired"):
            service.verify_access_token(expired)
    assert decodes == [expired, expired]


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens_module, "VERIFIED_CACHE_SIZE", 3)
    service = _service(_ring())
    issued = [_issue(service) for _ in range(5)]
    for token in issued:
        service.verify_access_token(token)
    decodes = _count_decodes(monkeypatch)
    service.verify_access_token(issued[0])  # the oldest was dropped: checked again
    service.verify_access_token(issued[-1])  # the newest is still remembered
    assert decodes == [issued[0]]
