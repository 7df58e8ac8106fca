"""The key ring: every long-lived key the service holds, and the seam a KMS replaces.

Keys held:
- key-encryption keys (KEKs), versioned: wrap each person's data key (DEK). Rotating
  adds a version and makes it current; old versions stay until every wrapped DEK has
  been rewrapped (`rewrap_dek`), because dropping one erases everyone still under it.
- the blind-index root key: per-index HMAC keys are derived from it. It has no
  rotation: a new root orphans every stored index (re-index from decrypted data).
- token signing keys (Ed25519, by kid): the current one signs; all listed ones verify,
  so tokens issued before a rotation stay valid until they expire.
- the audit signing key (Ed25519): signs audit-log checkpoints.

The file format, its permission check and its atomic writes are in `keyring_file`.
With `VCM_KEK_PROVIDER=pkcs11` the KEKs are on an HSM instead (`keyring_pkcs11`) and
the file holds the other keys only (no `kek` section).
"""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.security import keyring_file
from app.security.errors import IntegrityError, KeyRingError
from app.security.keyring_file import KEY_BYTES, FileIdentity

__all__ = [
    "DEV_KEYRING_NAME",
    "FileKeyProvider",
    "IntegrityError",
    "KeyProvider",
    "KeyRingError",
    "SigningKey",
    "WrappedKey",
    "ed25519_jwk",
    "generate_keyring",
    "load_or_create_dev_keyring",
    "rewrap_dek",
    "rotate_kek",
    "rotate_token_signing_key",
    "wrap_aad",
]

DEV_KEYRING_NAME = "keyring.json"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_WRAPPED_BYTES = _NONCE_BYTES + KEY_BYTES + _TAG_BYTES
_WRAP_LABEL = b"vcm-dek|"


@dataclass(frozen=True, repr=False)
class WrappedKey:
    """A data key encrypted under KEK `kek_version`; store both columns beside the DEK id.

    Keep `kek_version` in its own column: the rewrap job after a rotation selects rows
    with `kek_version < current`.
    """

    kek_version: int
    blob: bytes

    def __repr__(self) -> str:
        return f"WrappedKey(kek_version={self.kek_version}, blob=<{len(self.blob)} bytes>)"


@dataclass(frozen=True, repr=False)
class SigningKey:
    """An Ed25519 private key with its key id; its repr never shows the key."""

    kid: str
    private_key: Ed25519PrivateKey

    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, private_key=<redacted>)"


@runtime_checkable
class KeyProvider(Protocol):
    """What the service needs from a key store; `FileKeyProvider` is the file-backed one.

    A KMS or Vault-transit provider implements the same methods: `wrap_dek`/`unwrap_dek`
    map to the KMS's encrypt/decrypt with `context` as its encryption context, so the
    KEKs never leave the KMS. `unwrap_dek` must accept every version it ever issued
    until an operator retires it, and `context` must be bound (tamper-evident), not
    merely stored.
    """

    @property
    def is_dev(self) -> bool:
        """True for a development key ring, which production must refuse."""
        ...

    def current_kek_version(self) -> int: ...

    def kek_versions(self) -> list[int]: ...

    def wrap_dek(self, dek: bytes, *, context: bytes) -> WrappedKey: ...

    def unwrap_dek(self, wrapped: WrappedKey, *, context: bytes) -> bytes: ...

    def index_root_key(self) -> bytes: ...

    def token_signing_key(self) -> SigningKey: ...

    def token_verification_keys(self) -> dict[str, Ed25519PublicKey]: ...

    def audit_signing_key(self) -> SigningKey: ...


@dataclass(frozen=True, repr=False)
class _Material:
    """One parsed snapshot of the file; replaced whole so readers never see a mix."""

    identity: FileIdentity
    dev: bool
    kek_current: int
    keks: dict[int, AESGCM]
    index_root: bytes
    token_signing: SigningKey
    # Derived once per load: requests verify tokens on every call.
    token_public: dict[str, Ed25519PublicKey]
    audit: SigningKey


class FileKeyProvider:
    """Key ring kept in a JSON file readable by its owner only (mode 0600 or 0400).

    The file is re-read when it changes on disk (cheap `stat` per call to the signing
    and wrapping methods), so a `vcm keys rotate` run from a shell reaches every worker
    without a restart; `unwrap_dek` also re-reads once when it meets an unknown version.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._loaded = _load(self._path)

    def __repr__(self) -> str:
        m = self._loaded
        return (
            f"FileKeyProvider(path={str(self._path)!r}, dev={m.dev}, "
            f"kek_versions={sorted(m.keks)}, kek_current={m.kek_current})"
        )

    @property
    def path(self) -> Path:
        return self._path

    @property
    def is_dev(self) -> bool:
        return self._loaded.dev

    def reload(self) -> None:
        """Re-read the file now (for a SIGHUP handler or an admin endpoint)."""
        self._reload()

    def current_kek_version(self) -> int:
        m = self._material()
        if not m.keks:
            raise KeyRingError(
                f"key ring {self._path} holds no key-encryption key (its KEKs are in an "
                "HSM): set VCM_KEK_PROVIDER=pkcs11 and the VCM_PKCS11_* settings"
            )
        return m.kek_current

    def kek_versions(self) -> list[int]:
        return sorted(self._material().keks)

    def wrap_dek(self, dek: bytes, *, context: bytes) -> WrappedKey:
        """Encrypt a 32-byte DEK under the current KEK, bound to `context` and the version."""
        if len(dek) != KEY_BYTES:
            raise ValueError(f"a data key must be {KEY_BYTES} bytes")
        m = self._material()
        self.current_kek_version()  # a ring without KEKs says where they are
        nonce = os.urandom(_NONCE_BYTES)
        sealed = m.keks[m.kek_current].encrypt(nonce, dek, wrap_aad(m.kek_current, context))
        return WrappedKey(kek_version=m.kek_current, blob=nonce + sealed)

    def unwrap_dek(self, wrapped: WrappedKey, *, context: bytes) -> bytes:
        """Decrypt a wrapped DEK; the version and context must be the ones it was wrapped with.

        An unknown version makes one re-read of the file (another process may have
        rotated since this one loaded); still unknown is a `KeyRingError`.
        """
        aead = self._loaded.keks.get(wrapped.kek_version)
        if aead is None:
            aead = self._reload().keks.get(wrapped.kek_version)
        if aead is None:
            raise KeyRingError(
                f"key ring {self._path} has no key-encryption key version "
                f"{wrapped.kek_version}; restore the key ring that wrapped this data key"
            )
        if len(wrapped.blob) != _WRAPPED_BYTES:
            raise IntegrityError("wrapped data key is malformed")
        nonce, sealed = wrapped.blob[:_NONCE_BYTES], wrapped.blob[_NONCE_BYTES:]
        try:
            return aead.decrypt(nonce, sealed, wrap_aad(wrapped.kek_version, context))
        except InvalidTag:
            raise IntegrityError(
                "wrapped data key failed authentication (altered, or wrong context)"
            ) from None

    def index_root_key(self) -> bytes:
        return self._material().index_root

    def token_signing_key(self) -> SigningKey:
        return self._material().token_signing

    def token_verification_keys(self) -> dict[str, Ed25519PublicKey]:
        return dict(self._material().token_public)

    def audit_signing_key(self) -> SigningKey:
        return self._material().audit

    def _material(self) -> _Material:
        if keyring_file.identity_of(self._path) != self._loaded.identity:
            return self._reload()
        return self._loaded

    def _reload(self) -> _Material:
        with self._lock:
            fresh = _load(self._path)
            if fresh.dev != self._loaded.dev:
                raise KeyRingError(
                    f"key ring {self._path} changed between dev and production while in "
                    "use; restart the service with the intended key ring"
                )
            self._loaded = fresh
            return fresh


def generate_keyring(
    path: str | os.PathLike[str], *, dev: bool, kek: bool = True
) -> FileKeyProvider:
    """Create a new key ring file (mode 0600); refuses to overwrite an existing one.
    `kek` false: no KEK in the file (they are in an HSM, `keyring_pkcs11`).

    Overwriting would destroy the KEKs that wrap every stored data key, which erases
    all encrypted data, so an existing file is an error, never a reset.
    """
    target = Path(path)
    if not keyring_file.create_exclusive(target, keyring_file.new_document(dev=dev, kek=kek)):
        raise KeyRingError(f"key ring {target} already exists; it was not overwritten")
    return FileKeyProvider(target)


def rotate_kek(path: str | os.PathLike[str]) -> int:
    """Add KEK version max+1 and make it current; earlier versions are kept.

    Serialised with an exclusive lock so two concurrent rotations cannot both write
    version N+1 with different keys (one would be lost with the DEKs wrapped under it).
    """
    target = Path(path)
    with keyring_file.exclusive_lock(target):
        doc, _ = keyring_file.read(target)
        keyring_file.parse(target, doc)
        if "kek" not in doc:
            raise KeyRingError(f"key ring {target} keeps its KEKs in an HSM; rotate them there")
        versions: dict[str, str] = doc["kek"]["versions"]
        new = max(int(v) for v in versions) + 1
        versions[str(new)] = keyring_file.b64(os.urandom(KEY_BYTES))
        doc["kek"]["current"] = new
        keyring_file.replace(target, doc)
    return new


def rotate_token_signing_key(path: str | os.PathLike[str]) -> str:
    """Add a token signing key and make it current; returns its kid.

    Old kids stay in the file so tokens signed before the rotation still verify;
    remove them by hand once the longest token lifetime has passed.
    """
    target = Path(path)
    with keyring_file.exclusive_lock(target):
        doc, _ = keyring_file.read(target)
        keyring_file.parse(target, doc)
        kid = keyring_file.new_kid("tok")
        private = Ed25519PrivateKey.generate().private_bytes_raw()
        doc["token_signing"]["keys"][kid] = keyring_file.b64(private)
        doc["token_signing"]["current"] = kid
        keyring_file.replace(target, doc)
    return kid


def load_or_create_dev_keyring(data_dir: Path) -> FileKeyProvider:
    """Open `data_dir/keyring.json`, creating a dev key ring there on first start.

    Safe when several workers start at once: creation never overwrites, and the
    losers of the race load the winner's file.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = data_dir / DEV_KEYRING_NAME
    if not target.exists():
        keyring_file.create_exclusive(target, keyring_file.new_document(dev=True))
    return FileKeyProvider(target)


def rewrap_dek(provider: KeyProvider, wrapped: WrappedKey, *, context: bytes) -> WrappedKey:
    """Re-encrypt a wrapped DEK under the current KEK (no-op if already current).

    This is how a KEK rotation completes without touching any encrypted field.
    """
    if wrapped.kek_version == provider.current_kek_version():
        return wrapped
    dek = provider.unwrap_dek(wrapped, context=context)
    return provider.wrap_dek(dek, context=context)


def ed25519_jwk(kid: str, public_key: Ed25519PublicKey) -> dict[str, str]:
    """The RFC 8037 JWK of a verification key, for `/.well-known/jwks.json`."""
    x = base64.urlsafe_b64encode(public_key.public_bytes_raw()).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": x}


def wrap_aad(version: int, context: bytes) -> bytes:
    # The version is inside the AAD so a blob cannot be relabelled as another version.
    return _WRAP_LABEL + version.to_bytes(4, "big") + context


def _load(path: Path) -> _Material:
    doc, identity = keyring_file.read(path)
    parsed = keyring_file.parse(path, doc)
    token_signing = SigningKey(parsed.token_current, parsed.token_keys[parsed.token_current])
    return _Material(
        identity=identity,
        dev=parsed.dev,
        kek_current=parsed.kek_current,
        keks={version: AESGCM(kek) for version, kek in parsed.keks.items()},
        index_root=parsed.index_root,
        token_signing=token_signing,
        token_public={kid: private.public_key() for kid, private in parsed.token_keys.items()},
        audit=SigningKey(parsed.audit_kid, parsed.audit_key),
    )
