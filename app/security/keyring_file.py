"""The key ring file: where it lives on disk, how it is checked, read and written.

Format 1 (JSON; binary values base64):

    {"format": 1, "dev": false,
     "kek": {"current": 2, "versions": {"1": "<32 bytes>", "2": "<32 bytes>"}},
     "index_root": "<32 bytes>",
     "token_signing": {"current": "<kid>", "keys": {"<kid>": "<Ed25519 private, 32 bytes>"}},
     "audit_signing": {"kid": "<kid>", "key": "<Ed25519 private, 32 bytes>"}}

With the KEKs in an HSM (`VCM_KEK_PROVIDER=pkcs11`) the `kek` section is absent.

Only the owner may read it (no group or other permission bits). Writes go to a 0600
temporary file that is fsynced and then renamed over (or linked to) the target, so a
reader sees the old file or the new one, never half of one.
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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.security.errors import KeyRingError

__all__ = [
    "FORMAT",
    "KEY_BYTES",
    "FileIdentity",
    "KeyRingDocument",
    "create_exclusive",
    "exclusive_lock",
    "identity_of",
    "new_document",
    "parse",
    "read",
    "replace",
]

FORMAT = 1
KEY_BYTES = 32
MAX_VERSION = 2**31 - 1

# (device, inode, mtime, size): a rename over the file always changes the inode.
FileIdentity = tuple[int, int, int, int]


@dataclass(frozen=True, repr=False)
class KeyRingDocument:
    """A validated key ring file, keys decoded; its repr shows nothing."""

    dev: bool
    kek_current: int
    keks: dict[int, bytes]
    index_root: bytes
    token_current: str
    token_keys: dict[str, Ed25519PrivateKey]
    audit_kid: str
    audit_key: Ed25519PrivateKey


def identity_of(path: Path) -> FileIdentity:
    try:
        return _identity(os.stat(path))
    except OSError as exc:
        raise KeyRingError(f"key ring {path} cannot be read: {exc.strerror}") from None


def _identity(st: os.stat_result) -> FileIdentity:
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def read(path: Path) -> tuple[dict[str, Any], FileIdentity]:
    """The file's JSON object; refuses a file that group or others may access."""
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
    return doc, _identity(st)


def parse(path: Path, doc: dict[str, Any]) -> KeyRingDocument:
    """Validate every field; errors name the field and never show a value."""

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

    kek = obj(doc.get("kek", {"current": 0, "versions": {}}), "kek")
    keks: dict[int, bytes] = {}
    for label, value in obj(kek.get("versions"), "kek.versions").items():
        if not (label.isascii() and label.isdigit() and label == str(int(label))):
            raise bad("kek.versions", "keys must be positive integers without leading zeros")
        if not 1 <= int(label) <= MAX_VERSION:
            raise bad("kek.versions", "keys must be positive integers")
        keks[int(label)] = key(value, f"kek.versions.{label}")
    current = kek.get("current")
    if "kek" not in doc:
        current = 0  # the KEKs are in an HSM
    elif isinstance(current, bool) or not isinstance(current, int) or current not in keks:
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

    return KeyRingDocument(
        dev=doc["dev"],
        kek_current=current,
        keks=keks,
        index_root=key(doc.get("index_root"), "index_root"),
        token_current=token_current,
        token_keys=token_keys,
        audit_kid=audit_kid,
        audit_key=audit_key,
    )


def new_document(*, dev: bool, kek: bool = True) -> dict[str, Any]:
    """A fresh key ring: KEK version 1 (unless the KEKs are in an HSM: `kek` false),
    index root, one token key, the audit key."""
    token_kid = new_kid("tok")
    doc: dict[str, Any] = {
        "format": FORMAT,
        "dev": dev,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "kek": {"current": 1, "versions": {"1": b64(os.urandom(KEY_BYTES))}},
        "index_root": b64(os.urandom(KEY_BYTES)),
        "token_signing": {
            "current": token_kid,
            "keys": {token_kid: b64(Ed25519PrivateKey.generate().private_bytes_raw())},
        },
        "audit_signing": {
            "kid": new_kid("audit"),
            "key": b64(Ed25519PrivateKey.generate().private_bytes_raw()),
        },
    }
    if not kek:
        del doc["kek"]
    return doc


def new_kid(prefix: str) -> str:
    return f"{prefix}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


def b64(raw: bytes) -> str:
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


def create_exclusive(path: Path, doc: dict[str, Any]) -> bool:
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


def replace(path: Path, doc: dict[str, Any]) -> None:
    """Atomically replace the file with `doc`; hold `exclusive_lock` around read+replace."""
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
def exclusive_lock(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the file between processes (advisory flock)."""
    lock_path = path.with_name(f".{path.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
