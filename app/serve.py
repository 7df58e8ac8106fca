"""Serving with several worker processes, each listening on its own socket.

Why not uvicorn's `--workers`: its workers share one listening socket, and asyncio's
accept loop lets whichever worker wakes first take every connection waiting in the
queue. Clients that keep their connections open (the mobile and web clients, the
agencies' systems, a reverse proxy's upstream pool) connect in bursts, so one worker
ends up with most of them while the other's CPU sits idle: bench/load.py measured
one worker at 95 % of a core and the other at 15 % under 32 keep-alive clients.

Here each worker opens its own socket on the same address with `SO_REUSEPORT`, and
the kernel spreads new connections across the workers' sockets by a hash of the
connection. The supervisor holds a socket bound to the address but never listening
(a listening socket would take a share of the connections): it claims the port before
any worker starts, so a port in use is one clear error instead of failing workers.

The supervisor restarts a worker that dies (a worker that fails during startup stops
the service instead: the next one would fail the same way) or hangs, and on SIGINT or
SIGTERM passes the signal on and waits for the workers to finish their requests.

A hung worker (its event loop stuck in a blocking call or a deadlock) would keep its
socket in the group and its share of new connections, which would wait forever. Each
worker notes the time on every tick of uvicorn's main loop (every 0.1 s) in memory
shared with the supervisor; one silent for `HUNG_AFTER_SECONDS` is killed and
replaced. Generous on purpose: a loop blocked for seconds is slow, not dead.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from multiprocessing.context import SpawnProcess
from typing import Any, NamedTuple

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from app import logging as app_logging

log = logging.getLogger("vcm.serve")

_spawn = multiprocessing.get_context("spawn")
# How long the supervisor waits for the workers to finish their requests on shutdown.
SHUTDOWN_GRACE_SECONDS = 30.0
# A worker whose event loop has not come round for this long is killed and replaced.
HUNG_AFTER_SECONDS = 30.0


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class _BeatingServer(uvicorn.Server):
    """uvicorn's server, noting `time.monotonic()` (one clock for every process) in
    `beat` on each tick of its main loop."""

    def __init__(self, config: uvicorn.Config, beat: Any) -> None:
        super().__init__(config)
        self.beat = beat

    async def on_tick(self, counter: int) -> bool:
        self.beat.value = time.monotonic()
        return await super().on_tick(counter)


def _worker(config: uvicorn.Config, log_level: str, beat: Any = None) -> None:
    """A worker process: its own listening socket in the group, one uvicorn server.
    A spawned process starts with Python's default logging, so the JSON logging of
    `vcm` (access lines included) is set up here again."""
    app_logging.configure(log_level)
    config.configure_logging()
    try:
        sock = _socket(config.host, config.port)
        sock.listen(config.backlog)
    except OSError as exc:  # the supervisor stops rather than restart it forever
        log.error("worker cannot listen on %s:%s: %s", config.host, config.port, exc)
        sys.exit(STARTUP_FAILURE)
    # The terminal's Ctrl-C reaches every process of the group; uvicorn handles it.
    with contextlib.suppress(KeyboardInterrupt):
        _serve(config, [sock], beat)


def _serve(
    config: uvicorn.Config, sockets: list[socket.socket] | None = None, beat: Any = None
) -> None:
    """Build the app, put what startup made out of the garbage collector's way, serve.

    Modules, the app, its routes and schemas are most of a worker's heap and live as
    long as it does; frozen (`gc.freeze`), they are no longer scanned by every full
    collection during requests. Measured with bench/load.py: p99 of a case read about
    halved (160-190 ms to 75-85 ms at 32 clients), throughput unchanged.
    """
    config.load()
    gc.collect()
    gc.freeze()
    server = uvicorn.Server(config) if beat is None else _BeatingServer(config, beat)
    server.run(sockets=sockets)


class _Worker(NamedTuple):
    process: SpawnProcess
    beat: Any  # its last tick (0.0 until its server runs), in shared memory


class Supervisor:
    def __init__(
        self,
        config: uvicorn.Config,
        workers: int,
        log_level: str,
        hung_after: float = HUNG_AFTER_SECONDS,
    ) -> None:
        self.config, self.workers, self.log_level = config, workers, log_level
        self.hung_after = hung_after
        self.running: list[_Worker] = []
        self.stopping = threading.Event()

    def _start_worker(self) -> _Worker:
        beat = _spawn.RawValue("d", 0.0)
        process = _spawn.Process(
            target=_worker, args=(self.config, self.log_level, beat), daemon=False
        )
        process.start()
        return _Worker(process, beat)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping.set()

    def run(self) -> None:
        claim = _socket(self.config.host, self.config.port)  # fails here if the port is taken
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.running = [self._start_worker() for _ in range(self.workers)]
            while not self.stopping.wait(0.5):
                self._kill_hung()
                self._replace_dead()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            claim.close()

    def _kill_hung(self) -> None:
        now = time.monotonic()
        for process, beat in self.running:
            silent = now - beat.value
            if beat.value and silent > self.hung_after and process.is_alive():
                log.error("worker %s has been stuck for %.0f s; killing it", process.pid, silent)
                process.kill()  # `_replace_dead` starts another

    def _replace_dead(self) -> None:
        for index, (process, _) in enumerate(self.running):
            if process.is_alive():
                continue
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker %s failed to start; stopping", process.pid)
                self.stopping.set()
                return
            log.warning("worker %s ended (exit code %s); starting another", process.pid,
                        process.exitcode)  # fmt: skip
            self.running[index] = self._start_worker()

    def _stop_all(self) -> None:
        for process, _ in self.running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process, _ in self.running:
            process.join(SHUTDOWN_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()


def run(
    config: uvicorn.Config,
    workers: int,
    log_level: str = "INFO",
    hung_after: float = HUNG_AFTER_SECONDS,
) -> None:
    """Serve `config` with `workers` processes (one: in this process, as uvicorn does,
    with the logging its caller set up, and nothing to replace it if it hangs)."""
    if workers <= 1:
        _serve(config)
        return
    if not reuse_port_supported():
        raise RuntimeError("Several workers need SO_REUSEPORT (Linux); run one worker.")
    Supervisor(config, workers, log_level, hung_after).run()
