"""`vcm keys init | rotate | status`."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import cli
from app.config import get_settings
from app.db import make_engine, make_sessionmaker
from app.security.blind_index import BlindIndexer
from app.security.keyring import FileKeyProvider, generate_keyring
from app.services import persons as service
from tests.vault.conftest import made_up


@pytest.fixture
def keyring(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, clean_db: None
) -> Iterator[Path]:
    path = tmp_path / "ring" / "keyring.json"
    path.parent.mkdir()
    generate_keyring(path, dev=True)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VCM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VCM_KEYRING", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _seed(database_url: str, path: Path, count: int) -> list[str]:
    async def run() -> list[str]:
        keys = FileKeyProvider(path)
        engine = make_engine(database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                indexer = BlindIndexer(keys.index_root_key())
                people = [
                    await service.create_person(session, keys, indexer, "victim", made_up())
                    for _ in range(count)
                ]
                await session.commit()
                return [str(p.id) for p in people]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_rotate_then_status(
    keyring: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(database_url, keyring, 7)
    assert cli.main(["keys", "status"]) == 0
    out = capsys.readouterr().out
    assert "version 1 (current): 7 data keys" in out

    assert cli.main(["keys", "rotate", "--batch-size", "3"]) == 0
    out = capsys.readouterr().out
    assert "Added KEK version 2" in out
    assert "Rewrapped 7 of 7 data keys in 3 batches under version 2" in out
    assert "version 2 (current): 7 data keys" in out and "version 1" not in out.split("KEK")[-1]
    assert json.loads(keyring.read_text())["kek"]["current"] == 2

    # Nothing left: a second pass rewraps nothing and adds no version.
    assert cli.main(["keys", "rotate", "--rewrap-only"]) == 0
    assert "Rewrapped 0 of 7" in capsys.readouterr().out
    assert cli.main(["keys", "rotate", "--batch-size", "0"]) == 2


def test_init_makes_a_production_keyring_once(
    keyring: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "prod-keyring.json"
    assert cli.main(["keys", "init", "--production", str(target)]) == 0
    assert "production key ring" in capsys.readouterr().out
    assert json.loads(target.read_text())["dev"] is False
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    before = target.read_bytes()
    assert cli.main(["keys", "init", "--production", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == before
    assert cli.main(["keys", "init", str(tmp_path / "missing" / "k.json")]) == 2


def _seed_endpoint(database_url: str, path: Path) -> None:
    """One webhook endpoint, its signing secret wrapped by the key ring's KEK."""
    import uuid

    from app.config import Settings
    from app.models import Agency
    from app.models.webhook import WebhookEventType
    from app.schemas.webhooks import WebhookEndpointCreate
    from app.security.permissions import Role
    from app.security.principal import Principal
    from app.services.webhooks.endpoints import create_endpoint

    async def run() -> None:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                agency = Agency(code="T-HOOKS", name="Sở Y tế (test)", kind="social_affairs",
                                province_code="40")  # fmt: skip
                session.add(agency)
                await session.flush()
                admin = Principal(uuid.uuid4(), Role.AGENCY_ADMIN, agency.id, agency.kind, "40")
                body = WebhookEndpointCreate(
                    url="https://1.1.1.1/hooks", events=[WebhookEventType.REFERRAL_CREATED]
                )
                await create_endpoint(session, FileKeyProvider(path), Settings(), admin, body)  # type: ignore[call-arg]
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_rotate_and_status_count_webhook_secrets(
    keyring: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(database_url, keyring, 2)
    _seed_endpoint(database_url, keyring)
    assert cli.main(["keys", "status"]) == 0
    assert (
        "version 1 (current): 2 data keys, 1 webhook, TOTP and incident secrets"
        in capsys.readouterr().out
    )

    assert cli.main(["keys", "rotate"]) == 0
    out = capsys.readouterr().out
    assert "under version 2, and 1 of 1 webhook, TOTP and incident secrets" in out
    assert "version 2 (current): 2 data keys, 1 webhook, TOTP and incident secrets" in out
    assert "version 1" not in out.split("KEK versions")[-1]
