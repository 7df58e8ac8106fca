"""`vcm serve --workers N` (app/serve.py): every worker takes a share of keep-alive
connections opened in a burst, a killed worker is replaced, and SIGTERM stops all."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import psutil
import pytest

from bench.harness import free_port

pytestmark = pytest.mark.skipif(not hasattr(__import__("socket"), "SO_REUSEPORT"), reason="Linux")

SERVE = (
    "import uvicorn; from app import serve; "
    "serve.run(uvicorn.Config('tests.serve.pid_app:app', host='127.0.0.1', port={port}, "
    "log_level='warning', lifespan='off'), {workers}, hung_after={hung_after})"
)


def _pid(port: int) -> int:
    return int(httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text)


def _workers(supervisor: subprocess.Popen[bytes]) -> set[int]:
    """The live worker processes (not multiprocessing's helper, not a killed worker
    the supervisor has yet to reap)."""
    found = set()
    for child in psutil.Process(supervisor.pid).children():
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.Error:  # a zombie, or already gone
            continue
    return found


def _listening_sockets(pid: int, port: int) -> set[str]:
    """The kernel objects (socket inodes) with which `pid` listens on `port`."""
    process = psutil.Process(pid)
    fds = {c.fd for c in process.net_connections("tcp") if c.status == "LISTEN"
           and c.laddr.port == port}  # fmt: skip
    return {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in fds}


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A supervisor with 2 workers; `@pytest.mark.parametrize("served", [N], indirect=True)`
    sets how many seconds of silence make a worker hung (default 30)."""
    hung_after = getattr(request, "param", 30.0)
    port = free_port()
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SERVE.format(port=port, workers=2, hung_after=hung_after)],
        start_new_session=True,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = _workers(supervisor)
        with contextlib.suppress(psutil.Error):
            if len(workers) == 2 and all(_listening_sockets(pid, port) for pid in workers):
                break
        time.sleep(0.2)
    try:
        yield supervisor, port
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
            supervisor.wait(10)


def _replaced(supervisor: subprocess.Popen[bytes], gone: set[int], seconds: float) -> set[int]:
    """The workers once none of `gone` is among them and there are two again."""
    deadline = time.monotonic() + seconds
    now = _workers(supervisor)
    while time.monotonic() < deadline:
        now = _workers(supervisor) - gone
        if len(now) == 2:
            break
        time.sleep(0.2)
    return now


async def _burst(port: int, connections: int) -> Counter[int]:
    """Open `connections` keep-alive connections at once; which worker answers each."""

    async def one() -> int:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            return int((await client.get("/")).text)

    return Counter(await asyncio.gather(*(one() for _ in range(connections))))


def test_each_worker_listens_on_its_own_socket(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    """uvicorn's own workers share one socket, and asyncio's accept loop lets one of
    them take a whole burst of connections (bench/load.py saw one worker at 95 % of
    a core, the other at 15 %). A socket each, in a SO_REUSEPORT group, lets the
    kernel spread them; the supervisor itself must not listen, or it would take a
    share it never answers."""
    supervisor, port = served
    workers = _workers(supervisor)
    sockets = [_listening_sockets(pid, port) for pid in workers]
    assert all(len(s) == 1 for s in sockets), sockets
    assert len(set.union(*sockets)) == len(workers)
    assert _listening_sockets(supervisor.pid, port) == set()


def test_connections_opened_together_reach_every_worker(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, port = served
    answered = asyncio.run(_burst(port, 24))
    assert set(answered) == _workers(supervisor), answered


def test_a_killed_worker_is_replaced_and_sigterm_stops_all(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    supervisor, port = served
    before = _workers(supervisor)
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    now = _replaced(supervisor, {victim}, 30)
    assert len(now) == 2 and victim not in now
    assert _pid(port) in now  # still answering
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(30) == 0
    # The workers log as the service does: JSON lines (a spawned process starts
    # without the parent's logging set-up).
    assert supervisor.stderr is not None
    lines = [json.loads(line) for line in supervisor.stderr.read().splitlines()
             if line.startswith(b"{")]  # fmt: skip
    answered = {line["pid"] for line in lines if line.get("message") == "answered"}
    assert answered and answered <= now | {victim}
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in now)  # fmt: skip


def test_workers_freeze_what_startup_made(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    """The app is built before serving and everything made so far is frozen out of the
    garbage collector (app/serve.py `_serve`): full collections during requests then
    scan only what requests made (p99 of a read about halved, bench/load.py)."""
    _, port = served
    frozen = [int(httpx.get(f"http://127.0.0.1:{port}/frozen", timeout=2).text) for _ in range(8)]
    assert min(frozen) > 10_000, frozen  # the modules and the app, not a handful


@pytest.mark.parametrize("served", [2.0], indirect=True)
def test_a_hung_worker_is_killed_and_replaced(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    """A worker stuck in a blocking call keeps its socket and its share of new
    connections, which would wait forever: the supervisor notices its loop has not
    ticked for `hung_after` seconds, kills it and starts another."""
    supervisor, port = served
    before = _workers(supervisor)
    # Hang whichever worker takes this connection; it never answers.
    with contextlib.suppress(httpx.TimeoutException):
        httpx.get(f"http://127.0.0.1:{port}/hang", timeout=0.5)
    assert _workers(supervisor) == before  # not yet: 2 s of silence make it hung
    deadline = time.monotonic() + 20
    now = before
    while time.monotonic() < deadline:
        now = _workers(supervisor)
        if len(now) == 2 and len(now & before) == 1:
            break
        time.sleep(0.2)
    assert len(now) == 2 and len(now & before) == 1  # one replaced, the other kept
    for _ in range(6):
        assert _pid(port) in now  # every new connection is answered again
    assert supervisor.stderr is not None
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(30) == 0
    assert b"has been stuck" in supervisor.stderr.read()
