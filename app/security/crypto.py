"""Envelope encryption of identity fields.

Each person has a data key (DEK) of 32 random bytes with its own id (a UUID); the DEK is
stored only wrapped by the key ring's KEK (`create_data_key`, `open_data_key`), and
deleting the wrapped DEK erases everything encrypted under it (crypto-shredding).

Field ciphertext, version 1:

    0x01 | key id (16 bytes, the DEK's UUID) | nonce (12 bytes) | AES-256-GCM ciphertext+tag

The associated data is the header (version and key id) followed by
`FieldContext.aad()`, so a ciphertext only opens in the table, column, row and person
it was written for, and only with the key named in its header. AES-GCM does not hide
length: a ciphertext is 45 bytes longer than its plaintext.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.security.errors import IntegrityError
from app.security.keyring import KeyProvider, WrappedKey

__all__ = [
    "DATA_KEY_BYTES",
    "FORMAT_VERSION",
    "DataKey",
    "FieldContext",
    "IntegrityError",
    "KeyLookup",
    "Revealed",
    "create_data_key",
    "decrypt_field",
    "decrypt_field_str",
    "dek_wrap_context",
    "encrypt_field",
    "new_data_key",
    "open_data_key",
    "parse_key_id",
]

FORMAT_VERSION = 0x01
DATA_KEY_BYTES = 32
_KEY_ID_BYTES = 16
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER_BYTES = 1 + _KEY_ID_BYTES
_MIN_CIPHERTEXT = _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES
_FIELD_LABEL = b"vcm-field|v1|"
_DEK_LABEL = b"vcm-person-dek|v1|"
_MAX_NAME_BYTES = 255


class Revealed(str):
    """A decrypted value: an ordinary `str`, except that its repr is `'<redacted>'`.

    Logs, tracebacks and debuggers show reprs, so a revealed value that slips into one
    stays hidden; `str()`, f-strings and JSON serialisation still give the value.
    Operations on it (`+`, `.upper()`, slicing) return a plain `str`, so keep the
    `Revealed` itself, not a derived string, in anything that may be logged.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


def new_data_key() -> bytes:
    """32 bytes from the OS CSPRNG: one fresh DEK."""
    return os.urandom(DATA_KEY_BYTES)


@dataclass(frozen=True)
class FieldContext:
    """Where a ciphertext lives; it is bound to exactly this place.

    `row_id` is the id of the row holding the column; `person_id` the person whose DEK
    encrypts it (equal to `row_id` for the persons table itself).
    """

    table: str
    column: str
    row_id: UUID
    person_id: UUID

    def __post_init__(self) -> None:
        for label, name in (("table", self.table), ("column", self.column)):
            if not name or len(name.encode()) > _MAX_NAME_BYTES:
                raise ValueError(f"field context {label} must be 1 to 255 bytes of UTF-8")

    def aad(self) -> bytes:
        """Canonical encoding: names are length-prefixed, ids fixed-width, so no two
        distinct contexts share an encoding whatever characters the names contain."""
        table, column = self.table.encode(), self.column.encode()
        return b"".join(
            (
                _FIELD_LABEL,
                struct.pack(">B", len(table)),
                table,
                struct.pack(">B", len(column)),
                column,
                self.row_id.bytes,
                self.person_id.bytes,
            )
        )


@dataclass(frozen=True, repr=False, eq=False)
class DataKey:
    """An unwrapped DEK and its id; holds the cipher so repeated fields reuse it."""

    key_id: UUID
    key: bytes
    _aead: AESGCM = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.key) != DATA_KEY_BYTES:
            raise ValueError(f"a data key must be {DATA_KEY_BYTES} bytes")
        object.__setattr__(self, "_aead", AESGCM(self.key))

    def __repr__(self) -> str:
        return f"DataKey(key_id={self.key_id}, key=<redacted>)"

    def encrypt(self, plaintext: str | bytes, ctx: FieldContext) -> bytes:
        return _seal(self._aead, self.key_id, plaintext, ctx)

    def decrypt(self, ciphertext: bytes, ctx: FieldContext) -> bytes:
        return decrypt_field(self, ciphertext, ctx)

    def decrypt_str(self, ciphertext: bytes, ctx: FieldContext) -> Revealed:
        return decrypt_field_str(self, ciphertext, ctx)


KeyLookup = Callable[[UUID], DataKey]


def encrypt_field(dek: bytes, key_id: UUID, plaintext: str | bytes, ctx: FieldContext) -> bytes:
    """Encrypt one value for one place (`ctx`) under the DEK `key_id`; `str` is UTF-8.

    Every call draws a fresh random 96-bit nonce; NIST SP 800-38D allows 2^32 such
    encryptions per key, far beyond what one person's record will ever see.
    """
    return DataKey(key_id=key_id, key=dek).encrypt(plaintext, ctx)


def decrypt_field(key: DataKey | KeyLookup, ciphertext: bytes, ctx: FieldContext) -> bytes:
    """Decrypt a field written for `ctx`; anything else raises `IntegrityError`.

    `key` is the DEK, or a lookup from the key id in the header to the DEK (for rows of
    several persons). The DEK's id must equal the header's; a moved, altered, truncated
    or unknown-version ciphertext fails. Exceptions from the lookup propagate (a missing
    DEK is the caller's to report, e.g. as an erased person).
    """
    problem = _header_problem(ciphertext)
    if problem:
        raise _failure(ctx, problem)
    key_id = UUID(bytes=bytes(ciphertext[1:_HEADER_BYTES]))
    data_key = key if isinstance(key, DataKey) else key(key_id)
    if data_key.key_id != key_id:
        raise _failure(ctx, "names another data key than the one given")
    nonce = ciphertext[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES]
    sealed = ciphertext[_HEADER_BYTES + _NONCE_BYTES :]
    try:
        return data_key._aead.decrypt(nonce, sealed, ciphertext[:_HEADER_BYTES] + ctx.aad())
    except InvalidTag:
        raise _failure(ctx, "failed authentication (altered, moved, or wrong key)") from None


def decrypt_field_str(key: DataKey | KeyLookup, ciphertext: bytes, ctx: FieldContext) -> Revealed:
    """`decrypt_field`, decoded as UTF-8 into a `Revealed` (redacted repr)."""
    try:
        return Revealed(decrypt_field(key, ciphertext, ctx).decode("utf-8"))
    except UnicodeDecodeError:
        # The decode error would carry the plaintext bytes; drop it.
        raise _failure(ctx, "is not UTF-8 text") from None


def parse_key_id(ciphertext: bytes) -> UUID:
    """The DEK id a ciphertext names, so a service can fetch that DEK; checks only the
    header (the tag is checked by `decrypt_field`)."""
    problem = _header_problem(ciphertext)
    if problem:
        raise IntegrityError(f"encrypted field {problem}")
    return UUID(bytes=bytes(ciphertext[1:_HEADER_BYTES]))


def dek_wrap_context(key_id: UUID, person_id: UUID) -> bytes:
    """The wrap context of a person's DEK: a wrapped DEK copied to another person, or
    given another id, no longer unwraps."""
    return _DEK_LABEL + key_id.bytes + person_id.bytes


def create_data_key(provider: KeyProvider, person_id: UUID) -> tuple[DataKey, WrappedKey]:
    """A new DEK for `person_id`, and its wrapped form to store (id, version, blob)."""
    data_key = DataKey(key_id=uuid4(), key=new_data_key())
    wrapped = provider.wrap_dek(data_key.key, context=dek_wrap_context(data_key.key_id, person_id))
    return data_key, wrapped


def open_data_key(
    provider: KeyProvider, key_id: UUID, person_id: UUID, wrapped: WrappedKey
) -> DataKey:
    """Unwrap a stored DEK; it must be the one wrapped for this key id and person."""
    dek = provider.unwrap_dek(wrapped, context=dek_wrap_context(key_id, person_id))
    return DataKey(key_id=key_id, key=dek)


def _seal(aead: AESGCM, key_id: UUID, plaintext: str | bytes, ctx: FieldContext) -> bytes:
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    header = bytes((FORMAT_VERSION,)) + key_id.bytes
    nonce = os.urandom(_NONCE_BYTES)
    return header + nonce + aead.encrypt(nonce, data, header + ctx.aad())


def _header_problem(ciphertext: bytes) -> str | None:
    if len(ciphertext) < _MIN_CIPHERTEXT:
        return "is truncated"
    if ciphertext[0] != FORMAT_VERSION:
        return "has an unknown format version"
    return None


def _failure(ctx: FieldContext, reason: str) -> IntegrityError:
    return IntegrityError(
        f"encrypted field {ctx.table}.{ctx.column} {reason}",
        table=ctx.table,
        column=ctx.column,
    )
