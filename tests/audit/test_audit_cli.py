"""`vcm audit verify | checkpoint | export-checkpoints`: exit 0 sound, 1 tampered, 2 usage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app import cli
from app.config import get_settings
from tests.audit.helpers import seal_now, tamper, write_events


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, data_dir: Path) -> Iterator[None]:
    # The app's data folder, so the CLI signs and checks with the same dev key ring.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VCM_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
async def five(app: FastAPI, clean_db: None) -> None:
    await write_events(app, 5)


@pytest.fixture
async def tampered(app: FastAPI, engine: AsyncEngine, five: None) -> None:
    await seal_now(app)
    await tamper(
        engine,
        "UPDATE audit_events SET action = 'rewritten' "
        "WHERE id = (SELECT event_id FROM audit_seals WHERE chain_seq = 3)",
    )


def test_verify_checkpoint_and_export(
    five: None, cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["audit", "checkpoint"]) == 0
    assert "Sealed 5 events; a new checkpoint was signed." in capsys.readouterr().out
    exported = tmp_path / "checkpoints.jsonl"
    assert cli.main(["audit", "export-checkpoints", "--output", str(exported)]) == 0
    assert len(exported.read_text().splitlines()) == 1
    assert cli.main(["audit", "verify", "--checkpoints", str(exported)]) == 0
    out = capsys.readouterr().out
    # The earlier export is itself an event, sealed by this verify: 6 events.
    assert "Audit chain verified: 6 events, 1 checkpoints" in out


def test_verify_names_the_first_bad_seq(
    tampered: None, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["audit", "verify"]) == 1
    assert "broken at seq 3 (hash_mismatch)" in capsys.readouterr().err
    assert cli.main(["audit", "verify", "--json", "--no-seal"]) == 1
    assert '"first_bad_seq": 3' in capsys.readouterr().out


def test_verify_usage_errors(
    cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "not-checkpoints.jsonl"
    bad.write_text('{"type": "something else"}\n')
    assert cli.main(["audit", "verify", "--checkpoints", str(bad)]) == 2
    assert "line 1" in capsys.readouterr().err
    assert cli.main(["audit", "verify", "--checkpoints", str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit) as exited:
        cli.main(["audit"])
    assert exited.value.code == 2
