"""Production refuses unsafe configuration and hides the docs."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.keys import ConfigurationError, check_production, load_keyring
from app.main import create_app
from app.security.keyring import generate_keyring

GOOD_DB = "postgresql+asyncpg://vcm:Str0ng-and-l0ng@db.internal/vcm"


def prod(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "VCM_ENV": "production",
        "VCM_DATA_DIR": tmp_path / "data",
        "DATABASE_URL": GOOD_DB,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def prod_keyring(tmp_path: Path) -> Path:
    path = tmp_path / "secrets" / "keyring.json"
    path.parent.mkdir()
    generate_keyring(path, dev=False)
    return path


def test_production_requires_keyring(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="VCM_KEYRING"):
        check_production(prod(tmp_path))
    with pytest.raises(ConfigurationError, match="VCM_KEYRING"):
        load_keyring(prod(tmp_path))


def test_production_refuses_dev_keyring(tmp_path: Path) -> None:
    dev = tmp_path / "elsewhere" / "keyring.json"
    dev.parent.mkdir()
    generate_keyring(dev, dev=True)
    settings = prod(tmp_path, VCM_KEYRING=dev)
    check_production(settings)  # the path is fine, the contents are not
    with pytest.raises(ConfigurationError, match="development key ring"):
        load_keyring(settings)


def test_production_refuses_keyring_in_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "keyring.json"
    generate_keyring(path, dev=False)
    with pytest.raises(ConfigurationError, match="VCM_DATA_DIR"):
        check_production(prod(tmp_path, VCM_KEYRING=path))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres:postgres@db/vcm",
        "postgresql+asyncpg://vcm:changeme@db/vcm",
        "postgresql+asyncpg://vcm@db/vcm",
    ],
)
def test_production_refuses_default_database_secret(tmp_path: Path, url: str) -> None:
    settings = prod(tmp_path, VCM_KEYRING=prod_keyring(tmp_path), DATABASE_URL=url)
    with pytest.raises(ConfigurationError, match="password"):
        check_production(settings)


def test_production_requires_database_url_and_strict_cors(tmp_path: Path) -> None:
    settings = prod(tmp_path, VCM_KEYRING=prod_keyring(tmp_path), DATABASE_URL=None)
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        check_production(settings)
    settings = prod(tmp_path, VCM_KEYRING=tmp_path / "k.json", VCM_CORS_ORIGINS="*")
    with pytest.raises(ConfigurationError, match="CORS"):
        check_production(settings)


def test_create_app_refuses_in_production(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        create_app(prod(tmp_path))


async def test_production_hides_docs(tmp_path: Path) -> None:
    settings = prod(tmp_path, VCM_KEYRING=prod_keyring(tmp_path))
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/docs")).status_code == 404
        assert (await c.get("/openapi.json")).status_code == 404
    dev = create_app(Settings(VCM_ENV="dev", VCM_DATA_DIR=tmp_path / "d"))  # type: ignore[call-arg]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=dev), base_url="http://t") as c:
        assert (await c.get("/openapi.json")).status_code == 200


def test_access_token_lifetime_capped_at_15_minutes() -> None:
    with pytest.raises(ValueError, match="900"):
        Settings(VCM_ACCESS_TOKEN_TTL=3600)  # type: ignore[call-arg]


def test_keyring_file_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    generate_keyring(path, dev=False)
    os.chmod(path, 0o644)
    with pytest.raises(Exception, match="chmod 600"):
        load_keyring(Settings(VCM_KEYRING=path, VCM_DATA_DIR=tmp_path / "d"))  # type: ignore[call-arg]
