"""OWASP API6:2023 unrestricted access to sensitive business flows: password guessing.

Failed sign-ins slow down the address making them, per account, with growing delays,
and never lock the account (whole rule: tests/security/test_login_throttle.py; the
basics in tests/api/test_auth.py::TestLockout). Added here: guesses spread over many
addresses slow each address and leave the owner alone, and the throttle must not tell
which usernames exist.
"""

from __future__ import annotations

from app.security.permissions import Role
from tests.conftest import World, assert_problem


async def test_guesses_spread_over_addresses_slow_each_address(world: World) -> None:
    actor = await world.user(Role.SUPERVISOR, login=False)
    for address in ("10.20.0.1", "10.20.0.2", "10.20.0.3"):
        for i in range(5):
            await world.token(actor.user.username, f"guess-{i}", address)
        throttled = await world.token(actor.user.username, f"guess-{address}", address)
        assert_problem(throttled, 429)
        assert int(throttled.headers["retry-after"]) > 0
    assert (await world.token(actor.user.username, actor.password, "10.20.1.1")).status_code == 200


async def test_lockout_does_not_reveal_which_accounts_exist(world: World) -> None:
    actor = await world.user(Role.CASE_WORKER, login=False)
    answers = {}
    for username in (actor.user.username, "no-such-user-here"):
        address = f"10.30.{len(answers)}.1"
        for _ in range(5):
            await world.token(username, "wrong-password", address)
        answers[username] = await world.token(username, "wrong-password", address)
    known, unknown = answers.values()
    assert known.status_code == unknown.status_code == 429
    assert known.json()["detail"] == unknown.json()["detail"]
