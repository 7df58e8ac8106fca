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
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.security.errors import IntegrityError, KeyRingError

__all__ = [
    "DEV_KEYRING_NAME",
    "FileKeyProvider",
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
]

FORMAT = 1
KEY_BYTES = 32
DEV_KEYRING_NAME = "keyring.json"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_WRAPPED_BYTES = _NONCE_BYTES + KEY_BYTES + _TAG_BYTES
_WRAP_LABEL = b"vcm-dek|"
_MAX_VERSION = 2**31 - 1


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

    identity: tuple[int, int, int, int]
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
        return self._material().kek_current

    def kek_versions(self) -> list[int]:
        return sorted(self._material().keks)

    def wrap_dek(self, dek: bytes, *, context: bytes) -> WrappedKey:
        """Encrypt a 32-byte DEK under the current KEK, bound to `context` and the version."""
        if len(dek) != KEY_BYTES:
            raise ValueError(f"a data key must be {KEY_BYTES} bytes")
        m = self._material()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = m.keks[m.kek_current].encrypt(nonce, dek, _wrap_aad(m.kek_current, context))
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
            return aead.decrypt(nonce, sealed, _wrap_aad(wrapped.kek_version, context))
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
        try:
            identity = _identity(os.stat(self._path))
        except OSError as exc:
            raise KeyRingError(f"key ring {self._path} cannot be read: {exc.strerror}") from None
        if identity != self._loaded.identity:
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


def generate_keyring(path: str | os.PathLike[str], *, dev: bool) -> FileKeyProvider:
    """Create a new key ring file (mode 0600); refuses to overwrite an existing one.

    Overwriting would destroy the KEKs that wrap every stored data key, which erases
    all encrypted data, so an existing file is an error, never a reset.
    """
    target = Path(path)
    if not _create(target, _new_document(dev=dev)):
        raise KeyRingError(f"key ring {target} already exists; it was not overwritten")
    return FileKeyProvider(target)


def rotate_kek(path: str | os.PathLike[str]) -> int:
    """Add KEK version max+1 and make it current; earlier versions are kept.

    Serialised with an exclusive lock so two concurrent rotations cannot both write
    version N+1 with different keys (one would be lost with the DEKs wrapped under it).
    """
    target = Path(path)
    with _exclusive(target):
        doc = _read_document(target)
        _parse(target, doc, identity=(0, 0, 0, 0))
        versions: dict[str, str] = doc["kek"]["versions"]
        new = max(int(v) for v in versions) + 1
        versions[str(new)] = _b64(os.urandom(KEY_BYTES))
        doc["kek"]["current"] = new
        _replace(target, doc)
    return new


def rotate_token_signing_key(path: str | os.PathLike[str]) -> str:
    """Add a token signing key and make it current; returns its kid.

    Old kids stay in the file so tokens signed before the rotation still verify;
    remove them by hand once the longest token lifetime has passed.
    """
    target = Path(path)
    with _exclusive(target):
        doc = _read_document(target)
        _parse(target, doc, identity=(0, 0, 0, 0))
        kid = _new_kid("tok")
        doc["token_signing"]["keys"][kid] = _b64(Ed25519PrivateKey.generate().private_bytes_raw())
        doc["token_signing"]["current"] = kid
        _replace(target, doc)
    return kid


def load_or_create_dev_keyring(data_dir: Path) -> FileKeyProvider:
    """Open `data_dir/keyring.json`, creating a dev key ring there on first start.

    Safe when several workers start at once: creation never overwrites, and the
    losers of the race load the winner's file.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = data_dir / DEV_KEYRING_NAME
    if not target.exists():
        _create(target, _new_document(dev=True))
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


def _wrap_aad(version: int, context: bytes) -> bytes:
    # The version is inside the AAD so a blob cannot be relabelled as another version.
    return _WRAP_LABEL + version.to_bytes(4, "big") + context


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _load(path: Path) -> _Material:
    doc, st = _read(path)
    return _parse(path, doc, identity=_identity(st))


def _read_document(path: Path) -> dict[str, Any]:
    return _read(path)[0]


def _read(path: Path) -> tuple[dict[str, Any], os.stat_result]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise KeyRingError(f"key ring {path} does not exist") from None
    except OSError as exc:
        raise KeyRingError(f"key ring {path} cannot be opened: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        # fstat on the open file: the mode checked is the mode of the bytes read.
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise KeyRingError(f"key ring {path} is not a regular file")
        if stat.S_IMODE(st.st_mode) & 0o077:
            raise KeyRingError(
                f"key ring {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); run `chmod 600 {path}` and make "
                "sure it is owned by the service's user"
            )
        raw = handle.read()
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        # `from None`: the decode error holds the whole document, keys included.
        raise KeyRingError(f"key ring {path} is not valid JSON") from None
    if not isinstance(doc, dict):
        raise KeyRingError(f"key ring {path} is not a JSON object")
    return doc, st


def _parse(path: Path, doc: dict[str, Any], *, identity: tuple[int, int, int, int]) -> _Material:
    def bad(where: str, problem: str) -> KeyRingError:
        return KeyRingError(f"key ring {path}: {where} {problem}")

    def obj(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise bad(where, "must be a JSON object")
        return value

    def key(value: Any, where: str) -> bytes:
        try:
            raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != KEY_BYTES:
            raise bad(where, f"must be base64 of {KEY_BYTES} bytes")
        return raw

    if doc.get("format") != FORMAT:
        raise bad("format", f"must be {FORMAT}")
    if not isinstance(doc.get("dev"), bool):
        raise bad("dev", "must be true or false")

    kek = obj(doc.get("kek"), "kek")
    keks: dict[int, AESGCM] = {}
    for label, value in obj(kek.get("versions"), "kek.versions").items():
        if not (label.isascii() and label.isdigit() and label == str(int(label))):
            raise bad("kek.versions", "keys must be positive integers without leading zeros")
        if not 1 <= int(label) <= _MAX_VERSION:
            raise bad("kek.versions", "keys must be positive integers")
        keks[int(label)] = AESGCM(key(value, f"kek.versions.{label}"))
    current = kek.get("current")
    if isinstance(current, bool) or not isinstance(current, int) or current not in keks:
        raise bad("kek.current", "must be one of kek.versions")

    tokens = obj(doc.get("token_signing"), "token_signing")
    token_keys = {
        kid: Ed25519PrivateKey.from_private_bytes(key(value, f"token_signing.keys.{kid}"))
        for kid, value in obj(tokens.get("keys"), "token_signing.keys").items()
    }
    token_current = tokens.get("current")
    if not isinstance(token_current, str) or token_current not in token_keys:
        raise bad("token_signing.current", "must be one of token_signing.keys")

    audit = obj(doc.get("audit_signing"), "audit_signing")
    audit_kid = audit.get("kid")
    if not isinstance(audit_kid, str) or not audit_kid:
        raise bad("audit_signing.kid", "must be a non-empty string")
    audit_key = Ed25519PrivateKey.from_private_bytes(key(audit.get("key"), "audit_signing.key"))

    return _Material(
        identity=identity,
        dev=doc["dev"],
        kek_current=current,
        keks=keks,
        index_root=key(doc.get("index_root"), "index_root"),
        token_signing=SigningKey(kid=token_current, private_key=token_keys[token_current]),
        token_public={kid: key.public_key() for kid, key in token_keys.items()},
        audit=SigningKey(kid=audit_kid, private_key=audit_key),
    )


def _new_document(*, dev: bool) -> dict[str, Any]:
    token_kid = _new_kid("tok")
    return {
        "format": FORMAT,
        "dev": dev,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "kek": {"current": 1, "versions": {"1": _b64(os.urandom(KEY_BYTES))}},
        "index_root": _b64(os.urandom(KEY_BYTES)),
        "token_signing": {
            "current": token_kid,
            "keys": {token_kid: _b64(Ed25519PrivateKey.generate().private_bytes_raw())},
        },
        "audit_signing": {
            "kid": _new_kid("audit"),
            "key": _b64(Ed25519PrivateKey.generate().private_bytes_raw()),
        },
    }


def _new_kid(prefix: str) -> str:
    return f"{prefix}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _write_temp(path: Path, doc: dict[str, Any]) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            # fchmod: the umask may have stripped bits from 0600; never added, but be exact.
            os.fchmod(handle.fileno(), 0o600)
            handle.write(json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _create(path: Path, doc: dict[str, Any]) -> bool:
    """Publish `doc` at `path` only if nothing is there; False if something was."""
    tmp = _write_temp(path, doc)
    try:
        # link() fails if the target exists, which replace() would silently clobber.
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


def _replace(path: Path, doc: dict[str, Any]) -> None:
    tmp = _write_temp(path, doc)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Without this a crash right after rename can leave the old directory entry.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    lock_path = path.with_name(f".{path.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
