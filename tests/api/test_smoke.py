from app.security.permissions import Role
from tests.conftest import World


async def test_login_and_me(world: World) -> None:
    actor = await world.user(Role.CASE_WORKER)
    r = await world.client.get("/api/v1/auth/me", headers=actor.headers)
    assert r.status_code == 200
    assert r.json()["username"] == actor.user.username
