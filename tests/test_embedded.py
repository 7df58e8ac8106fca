"""The embedded PostgreSQL of `make run`: data survives a restart, stopping stops it,
and a run killed with SIGKILL does not stop the next one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from app.embedded import EmbeddedPostgres

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="runs only with the embedded server"
)


@pytest.fixture
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vcm-embedded-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _postmaster_pid(server: EmbeddedPostgres) -> int:
    return int((server.pgdata / "postmaster.pid").read_text().splitlines()[0])


def test_restart_keeps_data_and_stop_stops(folder: Path) -> None:
    first = EmbeddedPostgres(folder)
    first.start()
    first._server.psql("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42);")  # type: ignore[union-attr]
    pid = _postmaster_pid(first)
    first.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE

    second = EmbeddedPostgres(folder)
    second.start()
    try:
        out = second._server.psql("SELECT v FROM kept;")  # type: ignore[union-attr]
        assert "42" in out
    finally:
        second.stop()


def test_killed_run_leaves_no_lock_that_blocks_the_next(folder: Path) -> None:
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from app.embedded import EmbeddedPostgres\n"
        "EmbeddedPostgres(Path(sys.argv[1])).start()\n"
        "print('up', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "up" in result.stdout
    # The killed run left its pid in the handle list and the server running.
    orphan = _postmaster_pid_from(folder)

    server = EmbeddedPostgres(folder)
    url = server.start()
    assert url.startswith("postgresql+asyncpg://")
    assert _postmaster_pid(server) == orphan  # reused, not a second server
    server.stop()
    # The dead run's handle did not keep the server alive after the last live one left.
    assert not (folder / "pg" / "postmaster.pid").exists()


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _postmaster_pid_from(folder: Path) -> int:
    return int((folder / "pg" / "postmaster.pid").read_text().splitlines()[0])


def test_killed_database_server_does_not_block_the_next_start(folder: Path) -> None:
    first = EmbeddedPostgres(folder)
    first.start()
    postmaster = psutil.Process(_postmaster_pid(first))
    postmaster.kill()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(postmaster):
        time.sleep(0.05)
    assert (folder / "pg" / "postmaster.pid").exists()  # the stale lock stays behind

    second = EmbeddedPostgres(folder)
    try:
        assert second.start().startswith("postgresql+asyncpg://")
        assert "1" in second._server.psql("SELECT 1;")  # type: ignore[union-attr]
    finally:
        second.stop()
        first._server = None
