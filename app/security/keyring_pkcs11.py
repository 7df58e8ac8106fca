"""The PKCS#11 key ring: the key-encryption keys stay in a hardware security module.

`VCM_KEK_PROVIDER=pkcs11` keeps every KEK on a PKCS#11 token (a network HSM, a
smart-card HSM, or SoftHSM2 in tests) and the rest of the key ring (blind-index root,
token and audit signing keys) in the key ring file, whose `kek` section is then
empty (`vcm keys init` writes it so).

Rules:
- A KEK version is an AES-256 secret key on the token labelled `<prefix>-<version>`
  (`VCM_PKCS11_KEY_LABEL`, default `vcm-kek`), generated on the token itself as
  sensitive and not extractable, usable for encrypt/decrypt only: its value never
  leaves the HSM, and the token refuses to reveal it.
- A data key is wrapped by CKM_AES_GCM inside the token: a 12-byte nonce drawn here,
  the same additional data as the file key ring (a label, the version, the caller's
  context), a 16-byte tag; the stored blob is nonce + ciphertext + tag, as the file
  ring's. GCM rather than C_WrapKey: the service needs the data key's bytes back to
  decrypt fields, which an unwrapped token object would have to be extractable for.
- The current version is the highest on the token. Rotating generates version
  max+1 (over the token's and the file's versions); if two rotations race and both
  make that label, the one that finds a twin destroys its own key and fails. Old
  versions stay until `vcm keys rotate` has rewrapped every data key under the new.
- KEK versions still in the file (a deployment moving from the file ring) unwrap
  through the file; wrapping always uses the token.
- A failed tag check is an `IntegrityError`; any other token failure a
  `KeyRingError`. A closed session (HSM restart) is reopened once.
- One logged-in session per token and process, shared by its providers (PKCS#11
  logs in per application, not per session) and used under one lock: an operation
  is two calls (init, then encrypt or decrypt) that another thread must not split.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.mechanisms import GCMParams

from app.security.errors import IntegrityError, KeyRingError
from app.security.keyring import FileKeyProvider, SigningKey, WrappedKey, wrap_aad
from app.security.keyring_file import KEY_BYTES

__all__ = ["DEFAULT_MODULE", "Pkcs11Config", "Pkcs11KeyProvider"]

DEFAULT_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
_NONCE_BYTES = 12
_TAG_BITS = 128
_WRAPPED_BYTES = _NONCE_BYTES + KEY_BYTES + _TAG_BITS // 8
# What a token answers to a wrong tag (SoftHSM2: a general error) or a bad blob.
_REJECTED = (p11.EncryptedDataInvalid, p11.EncryptedDataLenRange, p11.GeneralError)
# A session the token no longer knows (restarted, or the device went away and back).
_LOST = (p11.SessionClosed, p11.SessionHandleInvalid, p11.DeviceRemoved, p11.TokenNotPresent)


@dataclass(frozen=True, repr=False)
class Pkcs11Config:
    """Where the KEKs are: the module, the token, its user PIN, the key label prefix."""

    module: Path
    token_label: str
    pin: str
    key_label: str = "vcm-kek"

    def __repr__(self) -> str:
        return (
            f"Pkcs11Config(module={str(self.module)!r}, token_label={self.token_label!r}, "
            f"pin=<redacted>, key_label={self.key_label!r})"
        )


@dataclass
class _Shared:
    """The process's session on one token, the PIN it logged in with, and its lock."""

    session: Any
    pin: str
    lock: threading.RLock


_SHARED: dict[tuple[str, str], _Shared] = {}
_SHARED_LOCK = threading.Lock()


def _login(
    config: Pkcs11Config, *, again: bool = False, lock: threading.RLock | None = None
) -> _Shared:
    """The logged-in session on the token (module rules); `again`: open a new one."""
    where = (str(config.module), config.token_label)
    with _SHARED_LOCK:
        shared = _SHARED.get(where)
        if shared is not None and not again:
            if not hmac.compare_digest(shared.pin, config.pin):
                raise KeyRingError(f"wrong PIN for token {config.token_label!r}")
            return shared
        if not config.module.is_file():
            raise KeyRingError(f"PKCS#11 module {config.module} does not exist")
        try:
            token = pkcs11.lib(str(config.module)).get_token(token_label=config.token_label)
            try:
                session = token.open(rw=True, user_pin=config.pin)
            except p11.UserAlreadyLoggedIn:  # reopening after a lost session
                session = token.open(rw=True)
        except p11.NoSuchToken:
            raise KeyRingError(f"no PKCS#11 token labelled {config.token_label!r}") from None
        except p11.PinIncorrect:
            raise KeyRingError(f"wrong PIN for token {config.token_label!r}") from None
        except (p11.PKCS11Error, RuntimeError) as exc:
            raise KeyRingError(
                f"cannot open token {config.token_label!r}: {type(exc).__name__}"
            ) from None
        lock = shared.lock if shared is not None else (lock or threading.RLock())
        _SHARED[where] = _Shared(session, config.pin, lock)
        return _SHARED[where]


class Pkcs11KeyProvider:
    """`KeyProvider` whose KEKs live on a PKCS#11 token (module rules); the file ring
    `rest` provides every other key."""

    def __init__(self, rest: FileKeyProvider, config: Pkcs11Config) -> None:
        self._rest = rest
        self._config = config
        self._label = re.compile(re.escape(config.key_label) + r"-([1-9][0-9]{0,9})")
        self._shared = _login(config)
        self._lock = self._shared.lock
        self._keks: dict[int, Any] = {}
        with self._lock:
            self._refresh()

    def __repr__(self) -> str:
        return (
            f"Pkcs11KeyProvider(token={self._config.token_label!r}, "
            f"kek_versions={sorted(self._keks)}, rest={self._rest!r})"
        )

    # The key ring file: status and the CLI name it.
    @property
    def path(self) -> Path:
        return self._rest.path

    @property
    def token_label(self) -> str:
        return self._config.token_label

    @property
    def is_dev(self) -> bool:
        return self._rest.is_dev

    def token_versions(self) -> list[int]:
        """The KEK versions on the token (the file may hold older ones)."""
        with self._lock:
            return sorted(self._keks)

    def current_kek_version(self) -> int:
        with self._lock:
            if not self._keks:
                raise KeyRingError(
                    f"token {self._config.token_label!r} holds no key-encryption key "
                    f"labelled {self._config.key_label}-<version>; run `vcm keys init`"
                )
            return max(self._keks)

    def kek_versions(self) -> list[int]:
        with self._lock:
            return sorted(set(self._keks) | set(self._rest.kek_versions()))

    def wrap_dek(self, dek: bytes, *, context: bytes) -> WrappedKey:
        """Encrypt a 32-byte DEK on the token under the current KEK, bound to
        `context` and the version."""
        if len(dek) != KEY_BYTES:
            raise ValueError(f"a data key must be {KEY_BYTES} bytes")
        version = self.current_kek_version()
        nonce = os.urandom(_NONCE_BYTES)
        params = GCMParams(nonce, wrap_aad(version, context), _TAG_BITS)
        sealed = self._call(version, "encrypt", dek, params)
        return WrappedKey(kek_version=version, blob=nonce + sealed)

    def unwrap_dek(self, wrapped: WrappedKey, *, context: bytes) -> bytes:
        """Decrypt a wrapped DEK on the token; the version and context must be the
        ones it was wrapped with. An unknown version looks the token up again once
        (another process may have rotated); a version only the file holds opens
        through the file."""
        with self._lock:
            known = wrapped.kek_version in self._keks or self._refresh(wrapped.kek_version)
        if not known:
            if wrapped.kek_version in self._rest.kek_versions():
                return self._rest.unwrap_dek(wrapped, context=context)
            raise KeyRingError(
                f"token {self._config.token_label!r} has no key-encryption key version "
                f"{wrapped.kek_version}; restore the HSM backup that holds it"
            )
        if len(wrapped.blob) != _WRAPPED_BYTES:
            raise IntegrityError("wrapped data key is malformed")
        nonce, sealed = wrapped.blob[:_NONCE_BYTES], wrapped.blob[_NONCE_BYTES:]
        params = GCMParams(nonce, wrap_aad(wrapped.kek_version, context), _TAG_BITS)
        try:
            return self._call(wrapped.kek_version, "decrypt", sealed, params)
        except _REJECTED:
            raise IntegrityError(
                "wrapped data key failed authentication (altered, or wrong context)"
            ) from None

    def index_root_key(self) -> bytes:
        return self._rest.index_root_key()

    def token_signing_key(self) -> SigningKey:
        return self._rest.token_signing_key()

    def token_verification_keys(self) -> dict[str, Ed25519PublicKey]:
        return self._rest.token_verification_keys()

    def audit_signing_key(self) -> SigningKey:
        return self._rest.audit_signing_key()

    def generate_kek(self) -> int:
        """Generate KEK version max+1 on the token and make it current (module rules)."""
        with self._lock:
            self._refresh()
            version = max([0, *self._keks, *self._rest.kek_versions()]) + 1
            label = f"{self._config.key_label}-{version}"
            key = self._shared.session.generate_key(
                KeyType.AES,
                KEY_BYTES * 8,
                label=label,
                id=version.to_bytes(4, "big"),
                store=True,
                template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                    Attribute.WRAP: False,
                    Attribute.UNWRAP: False,
                    Attribute.SIGN: False,
                    Attribute.VERIFY: False,
                    Attribute.DERIVE: False,
                },
            )
            twins = list(
                self._shared.session.get_objects(
                    {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label}
                )
            )
            if len(twins) > 1:
                key.destroy()
                raise KeyRingError(f"another rotation made {label} at the same time; retry")
            self._keks[version] = key
            return version

    def close(self) -> None:
        """Log the process out of the token and close its session (the CLI, tests);
        another provider on the same token logs in again when it next needs to."""
        where = (str(self._config.module), self._config.token_label)
        with _SHARED_LOCK, self._lock:
            if _SHARED.get(where) is self._shared:
                del _SHARED[where]
                with contextlib.suppress(p11.PKCS11Error):
                    self._shared.session.close()

    def _reopen(self) -> None:
        self._shared = _login(self._config, again=True, lock=self._lock)
        self._keks = {}
        self._refresh()

    def _refresh(self, wanted: int | None = None) -> bool:
        """Look the token's KEKs up again; whether `wanted` is among them."""
        found = self._shared.session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
        for key in found:
            match = self._label.fullmatch(key.label or "")
            if match:
                self._keks.setdefault(int(match.group(1)), key)
        return wanted in self._keks

    def _call(self, version: int, operation: str, data: bytes, params: GCMParams) -> bytes:
        for attempt in (1, 2):
            with self._lock:
                key = self._keks[version]
                try:
                    out: bytes = getattr(key, operation)(
                        data, mechanism=Mechanism.AES_GCM, mechanism_param=params
                    )
                    return out
                except _LOST:
                    if attempt == 2:
                        raise KeyRingError(
                            f"token {self._config.token_label!r} is unavailable"
                        ) from None
                    self._reopen()
                except _REJECTED:
                    raise
                except p11.PKCS11Error as exc:
                    raise KeyRingError(
                        f"token {self._config.token_label!r} refused: {type(exc).__name__}"
                    ) from None
        raise AssertionError("unreachable")
