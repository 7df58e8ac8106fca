"""The vault and `vcm keys` with the KEKs on a PKCS#11 token (SoftHSM2)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import cli
from app.config import get_settings
from app.db import make_engine, make_sessionmaker
from app.security.blind_index import BlindIndexer
from app.security.keyring import FileKeyProvider
from app.security.keyring_pkcs11 import Pkcs11Config, Pkcs11KeyProvider
from app.services import persons as service
from tests.softhsm import softhsm
from tests.vault.conftest import made_up

__all__ = ["softhsm"]  # the fixture


@pytest.fixture
def hsm_env(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    tmp_path: Path,
    clean_db: None,
    softhsm: Pkcs11Config,
) -> Iterator[Path]:
    """Settings for the HSM key ring; yields the key ring file's path (not made yet)."""
    path = tmp_path / "ring" / "keyring.json"
    path.parent.mkdir()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VCM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VCM_KEYRING", str(path))
    monkeypatch.setenv("VCM_KEK_PROVIDER", "pkcs11")
    monkeypatch.setenv("VCM_PKCS11_MODULE", str(softhsm.module))
    monkeypatch.setenv("VCM_PKCS11_TOKEN_LABEL", softhsm.token_label)
    monkeypatch.setenv("VCM_PKCS11_PIN", softhsm.pin)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _provider(path: Path, token: Pkcs11Config) -> Pkcs11KeyProvider:
    return Pkcs11KeyProvider(FileKeyProvider(path), token)


def _seed(database_url: str, keys: Pkcs11KeyProvider, count: int) -> list[str]:
    async def run() -> list[str]:
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


def _national_ids(database_url: str, keys: Pkcs11KeyProvider, ids: list[str]) -> list[str]:
    async def run() -> list[str]:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                views = [
                    await service.read_person(session, keys, uuid.UUID(i), reveal=True) for i in ids
                ]
                return [str(v.national_id) for v in views]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_vault_init_rotate_status_with_the_kek_on_the_token(
    hsm_env: Path, database_url: str, softhsm: Pkcs11Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["keys", "init", str(hsm_env)]) == 0
    out = capsys.readouterr().out
    assert "without KEKs" in out and "Generated KEK version 1 on token" in out
    assert "kek" not in json.loads(hsm_env.read_text())  # no KEK on disk
    keys = _provider(hsm_env, softhsm)
    people = _seed(database_url, keys, 5)
    before = _national_ids(database_url, keys, people)
    assert all(len(n) == 12 for n in before)

    assert cli.main(["keys", "status"]) == 0
    out = capsys.readouterr().out
    assert "version 1 (current): 5 data keys" in out
    assert f"KEKs on PKCS#11 token {softhsm.token_label!r}: versions [1]" in out

    assert cli.main(["keys", "rotate", "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    assert f"Added KEK version 2 on token {softhsm.token_label!r}" in out
    assert "Rewrapped 5 of 5 data keys in 3 batches under version 2" in out
    assert "version 2 (current): 5 data keys" in out
    # Every person still opens, through the old provider (it finds version 2 itself).
    assert _national_ids(database_url, keys, people) == before
    # A second init keeps the file and the token's keys.
    assert cli.main(["keys", "init", str(hsm_env)]) == 0
    assert "already holds KEK versions [1, 2]" in capsys.readouterr().out


def test_moving_a_file_ring_onto_the_token(
    hsm_env: Path, database_url: str, softhsm: Pkcs11Config, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.security.keyring import generate_keyring

    file_keys = generate_keyring(hsm_env, dev=True)  # KEK version 1 in the file
    people = _seed(database_url, file_keys, 3)  # type: ignore[arg-type]
    assert cli.main(["keys", "init", str(hsm_env)]) == 0
    assert "Generated KEK version 2 on token" in capsys.readouterr().out
    assert cli.main(["keys", "rotate", "--rewrap-only"]) == 0
    assert "Rewrapped 3 of 3 data keys in 1 batches under version 2" in capsys.readouterr().out
    keys = _provider(hsm_env, softhsm)
    assert len(_national_ids(database_url, keys, people)) == 3
