"""The production password hash and policy."""

from __future__ import annotations

import pytest

from app.security.passwords import hash_password, policy_problems, verify_password


@pytest.mark.real_password_cost
def test_production_hash_is_argon2id_with_recommended_cost() -> None:
    stored = hash_password("a long enough passphrase")
    assert stored.startswith("$argon2id$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    # OWASP's minimums for argon2id: 19 MiB memory with t=2, or more memory.
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2
    assert verify_password("a long enough passphrase", stored)
    assert not verify_password("another passphrase", stored)
    assert not verify_password("anything", None)
    assert not verify_password("anything", "not-a-hash")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short", False),
        ("12345678", False),
        ("Password123", False),
        ("x" * 129, False),
        ("x" * 128, True),
        ("correct horse battery", True),
        ("mật khẩu rất dài", True),
    ],
)
def test_policy(password: str, ok: bool) -> None:
    assert (policy_problems(password) == []) is ok
