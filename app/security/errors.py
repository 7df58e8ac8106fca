"""Exceptions raised by the crypto modules.

Messages name files, tables, columns and key versions so an operator can act on them;
they never carry a plaintext value, a key or a ciphertext.
"""

from __future__ import annotations

__all__ = ["IntegrityError", "KeyRingError", "SecurityError"]


class SecurityError(Exception):
    """Base class for failures of the key ring, field encryption and blind indexes."""


class KeyRingError(SecurityError):
    """The key ring is missing, unreadable, exposed, malformed, or lacks a needed key."""


class IntegrityError(SecurityError):
    """Ciphertext or a wrapped key failed authentication or is malformed.

    Not to be confused with `sqlalchemy.exc.IntegrityError`: this one means the bytes
    were altered, moved to another row, column or person, or belong to another key.
    """

    def __init__(self, message: str, *, table: str | None = None, column: str | None = None):
        super().__init__(message)
        self.table = table
        self.column = column
