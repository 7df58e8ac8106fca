"""KEK rotation covers the webhook signing secrets too: they are wrapped by the KEK
like the data keys, so a rotation that left them behind would break every delivery
once the old version is removed (which `vcm keys status` would have said was safe)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.config import Settings
from app.db import make_sessionmaker
from app.models.webhook import WebhookEndpoint, WebhookEventType
from app.schemas.webhooks import WebhookEndpointCreate
from app.security.keyring import FileKeyProvider, generate_keyring, rotate_kek
from app.security.permissions import Role
from app.security.principal import Principal
from app.services.key_rotation import rewrap_all, secret_version_counts
from app.services.webhooks.endpoints import create_endpoint, open_secret
from app.services.webhooks.signing import format_secret
from tests.conftest import World
from tests.vault.conftest import audit_events

# A literal public address: registration resolves nothing and connects nowhere.
URL = "https://1.1.1.1/vcm-hooks"


@pytest.fixture
def keyring_path(tmp_path: Path) -> Path:
    path = tmp_path / "keyring.json"
    generate_keyring(path, dev=True)
    return path


async def _admin(world: World) -> Principal:
    agency = await world.agency()
    return Principal(
        actor_id=uuid.uuid4(),
        role=Role.AGENCY_ADMIN,
        agency_id=agency.id,
        agency_kind=agency.kind,
        province_code=agency.province_code,
    )


async def _register(
    session: AsyncSession, keys: FileKeyProvider, principal: Principal
) -> tuple[WebhookEndpoint, str]:
    body = WebhookEndpointCreate(url=URL, events=[WebhookEventType.REFERRAL_CREATED])
    return await create_endpoint(session, keys, Settings(), principal, body)  # type: ignore[call-arg]


async def test_rotation_rewraps_webhook_secrets(
    engine: AsyncEngine, session: AsyncSession, world: World, keyring_path: Path
) -> None:
    keys = FileKeyProvider(keyring_path)
    principal = await _admin(world)
    endpoints = [await _register(session, keys, principal) for _ in range(3)]
    await session.commit()
    assert await secret_version_counts(session) == {1: 3}

    rotate_kek(keyring_path)
    report = await rewrap_all(make_sessionmaker(engine), keys, batch_size=2)
    assert report.webhook_secrets == 3 and report.failed_secrets == []
    assert await secret_version_counts(session) == {2: 3}
    for endpoint, secret in endpoints:
        await session.refresh(endpoint)
        assert endpoint.secret_kek_version == 2
        # The same signing key as before: receivers keep verifying.
        assert format_secret(open_secret(keys, endpoint)) == secret


async def test_a_tampered_secret_is_reported_and_the_rest_rewrapped(
    engine: AsyncEngine, session: AsyncSession, world: World, keyring_path: Path
) -> None:
    keys = FileKeyProvider(keyring_path)
    principal = await _admin(world)
    broken, _ = await _register(session, keys, principal)
    await _register(session, keys, principal)
    await session.execute(
        text(
            "UPDATE webhook_endpoints "
            "SET secret_wrapped = set_byte(secret_wrapped, 20, get_byte(secret_wrapped, 20) # 1) "
            "WHERE id = :id"
        ),
        {"id": broken.id},
    )
    await session.commit()
    rotate_kek(keyring_path)
    report = await rewrap_all(make_sessionmaker(engine), keys)
    assert report.webhook_secrets == 1 and report.failed_secrets == [broken.id]
    assert await secret_version_counts(session) == {1: 1, 2: 1}
    failures = await audit_events(session, "integrity.error")
    assert [(e.resource_type, e.resource_id) for e in failures] == [("webhook", str(broken.id))]
    assert (await audit_events(session, "keys.rotate"))[0].outcome == "error"


async def test_rotation_waits_for_a_registration_in_flight(
    engine: AsyncEngine, session: AsyncSession, world: World, keyring_path: Path
) -> None:
    """An endpoint whose secret was wrapped under the old version just before the
    rotation, and which commits after the rewrap pass, is not left behind."""
    keys = FileKeyProvider(keyring_path)
    principal = await _admin(world)
    await session.commit()
    sessions = make_sessionmaker(engine)
    async with sessions() as slow:
        await _register(slow, keys, principal)
        rotate_kek(keyring_path)
        rotation = asyncio.create_task(rewrap_all(sessions, FileKeyProvider(keyring_path)))
        await asyncio.sleep(0.5)
        assert not rotation.done()
        await slow.commit()
    report = await asyncio.wait_for(rotation, timeout=10)
    assert report.webhook_secrets == 1
    assert await secret_version_counts(session) == {2: 1}
