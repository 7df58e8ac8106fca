"""KEK rotation covers the incidents' description keys: wrapped by the KEK like the
data keys, a rotation that left them behind would make every description unreadable
once the old version is removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db import make_sessionmaker
from app.domain.incidents import Nature, Severity
from app.models import Incident
from app.schemas.incidents import IncidentCreate
from app.security.keyring import FileKeyProvider, generate_keyring, rotate_kek
from app.security.permissions import Role
from app.security.principal import Principal
from app.services import incidents
from app.services.key_rotation import rewrap_all, secret_version_counts
from tests.conftest import World
from tests.incidents.helpers import DESCRIPTION


async def test_rotation_rewraps_incident_keys(
    engine: AsyncEngine, session: AsyncSession, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "keyring.json"
    generate_keyring(path, dev=True)
    keys = FileKeyProvider(path)
    actor = await world.user(Role.AGENCY_ADMIN, login=False)
    principal = Principal(
        actor_id=actor.id,
        role=Role.AGENCY_ADMIN,
        agency_id=actor.agency.id,
        agency_kind=actor.agency.kind,
        province_code=actor.agency.province_code,
    )
    body = IncidentCreate(
        detected_at=datetime.now(UTC) - timedelta(hours=1),
        nature=Nature.AVAILABILITY,
        description=DESCRIPTION,
        persons_affected=0,
        severity=Severity.LOW,
    )
    await incidents.create_incident(session, keys, principal, body, notify_hours=72)
    await session.commit()
    assert await secret_version_counts(session) == {1: 1}

    rotate_kek(path)
    report = await rewrap_all(make_sessionmaker(engine), keys)
    assert report.incident_keys == 1 and report.failed_secrets == []
    assert await secret_version_counts(session) == {2: 1}
    row = (await session.execute(select(Incident))).scalar_one()
    await session.refresh(row)
    assert row.description_kek_version == 2
    assert incidents._open_description(keys, row) == DESCRIPTION
