"""KEK rotation covers the staff's TOTP secrets: wrapped by the KEK like the data keys,
a rotation that left them behind would lock every enrolled user out once the old
version is removed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db import make_sessionmaker
from app.models import UserTotp
from app.security.keyring import FileKeyProvider, generate_keyring, rotate_kek
from app.security.permissions import Role
from app.security.principal import Principal
from app.services import mfa
from app.services.key_rotation import rewrap_all, secret_version_counts
from app.services.second_factor import totp_of
from tests.conftest import World


async def test_rotation_rewraps_totp_secrets(
    engine: AsyncEngine, session: AsyncSession, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "keyring.json"
    generate_keyring(path, dev=True)
    keys = FileKeyProvider(path)
    actor = await world.user(Role.CASE_WORKER, login=False)
    principal = Principal(
        actor_id=actor.id,
        role=Role.CASE_WORKER,
        agency_id=actor.agency.id,
        agency_kind=actor.agency.kind,
        province_code=actor.agency.province_code,
    )
    secret, _ = await mfa.start_enrolment(session, keys, principal)
    await session.commit()
    assert await secret_version_counts(session) == {1: 1}

    rotate_kek(path)
    report = await rewrap_all(make_sessionmaker(engine), keys)
    assert report.totp_secrets == 1 and report.failed_secrets == []
    assert await secret_version_counts(session) == {2: 1}
    row = (await session.execute(select(UserTotp))).scalar_one()
    await session.refresh(row)
    assert row.secret_kek_version == 2
    # The same authenticator keeps working.
    assert totp_of(keys, row).secret == secret
