"""Password hashing and the password policy.

argon2id through pwdlib (passlib is unmaintained and breaks with bcrypt 5). Policy per
NIST SP 800-63B: 8 to 128 characters, not a known common password, no composition
rules. Verification of an unknown user runs against a dummy hash so the two failures
take similar time.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.i18n import msg

MIN_LENGTH = 8
MAX_LENGTH = 128

_hasher = PasswordHash((Argon2Hasher(),))
# A hash of a random string nobody knows, verified against when the user is unknown.
_DUMMY_HASH = _hasher.hash("vcm-timing-equaliser-2f1c0e8a")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = resources.files("app.data").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def policy_problems(password: str) -> list[str]:
    """Why a new password is refused (messages never repeat the password)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(msg("must be at least {min_length} characters", min_length=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(msg("must be at most {max_length} characters", max_length=MAX_LENGTH))
    if password.lower() in _common_passwords():
        problems.append(msg("is a commonly used password; choose another"))
    return problems


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-shape check: with no hash (unknown user) verify against a dummy."""
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # an unparseable stored hash is a failed login, not a 500
        return False
