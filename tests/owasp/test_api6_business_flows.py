"""OWASP API6:2023 unrestricted access to sensitive business flows: password guessing.

The account and per-address lockouts are pinned in tests/api/test_auth.py::TestLockout
(five failures lock the account with Retry-After, the lock follows the account across
addresses, a window ends it, a spray from one address is stopped). Added here: the
guesses spread over many addresses, and the lockout must not tell which usernames
exist.
"""

from __future__ import annotations

from app.security.permissions import Role
from tests.conftest import World, assert_problem


async def test_guesses_spread_over_addresses_lock_the_account(world: World) -> None:
    actor = await world.user(Role.SUPERVISOR, login=False)
    for i in range(5):
        await world.token(actor.user.username, f"guess-{i}", f"10.20.0.{i + 1}")
    locked = await world.token(actor.user.username, actor.password, "10.20.1.1")
    assert_problem(locked, 429)
    assert int(locked.headers["retry-after"]) > 0


async def test_lockout_does_not_reveal_which_accounts_exist(world: World) -> None:
    actor = await world.user(Role.CASE_WORKER, login=False)
    answers = {}
    for username in (actor.user.username, "no-such-user-here"):
        for i in range(5):
            await world.token(username, "wrong-password", f"10.30.{len(answers)}.{i + 1}")
        answers[username] = await world.token(username, "wrong-password", "10.30.9.9")
    known, unknown = answers.values()
    assert known.status_code == unknown.status_code == 429
    assert known.json()["detail"] == unknown.json()["detail"]
