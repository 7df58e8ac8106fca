"""The `vcm` command: exit codes and messages a person can act on."""

from __future__ import annotations

import io
import sys
import uuid

import pytest

from app import cli
from app.config import get_settings


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: object) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VCM_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(argv)


def test_create_user_with_new_agency(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = f"NAT-{uuid.uuid4().hex[:6]}"
    name = f"root.{uuid.uuid4().hex[:6]}"
    argv = ["create-user", "--username", name, "--role", "system_admin", "--agency-code", code]
    assert run(monkeypatch, [*argv, "--password-stdin"], "a long passphrase\n") == 1
    assert "--create-agency" in capsys.readouterr().err
    assert (
        run(monkeypatch, [*argv, "--password-stdin", "--create-agency"], "a long passphrase\n") == 0
    )
    assert "Created user" in capsys.readouterr().out
    # Same username again: refused with a reason, not a traceback.
    assert run(monkeypatch, [*argv, "--password-stdin"], "a long passphrase\n") == 1
    assert "taken" in capsys.readouterr().err


def test_create_user_bad_input(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["create-user", "--username", "someone", "--agency-code", "XX-1", "--password-stdin"]
    assert run(monkeypatch, [*base, "--role", "emperor"], "a long passphrase\n") == 2
    assert "Unknown role" in capsys.readouterr().err
    argv = [*base, "--role", "case_worker", "--create-agency"]
    assert run(monkeypatch, argv, "password\n") == 1
    assert "password" in capsys.readouterr().err
    assert (
        run(
            monkeypatch,
            ["create-user", "--username", "x", "--role", "auditor", "--agency-code", "X"],
        )
        == 2
    )


def test_seed_demo_is_idempotent_and_refused_in_production(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["seed-demo"]) == 0
    first = capsys.readouterr().out
    assert run(monkeypatch, ["seed-demo"]) == 0
    second = capsys.readouterr().out
    assert ("Demo users" in first) or ("present" in first)
    assert "present" in second
    monkeypatch.setenv("VCM_ENV", "production")
    get_settings.cache_clear()
    assert run(monkeypatch, ["seed-demo"]) == 2


def test_serve_refuses_production_without_keyring(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VCM_ENV", "production")
    get_settings.cache_clear()
    assert run(monkeypatch, ["serve"]) == 2
    assert "VCM_KEYRING" in capsys.readouterr().err


def test_migrate(cli_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(monkeypatch, ["migrate"]) == 0
