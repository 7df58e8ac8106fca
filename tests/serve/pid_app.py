"""A bare ASGI app that answers with its process id, on /frozen with how many objects
its process has frozen out of the garbage collector, and on /hang never: it blocks
its event loop (for tests/serve)."""

from __future__ import annotations

import gc
import logging
import os
import time

from starlette.types import Receive, Scope, Send

log = logging.getLogger("vcm.test.pid_app")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/hang":
        time.sleep(3600)  # noqa: ASYNC251 (the point: the whole worker is stuck)
    body = str(gc.get_freeze_count() if scope["path"] == "/frozen" else os.getpid()).encode()
    log.info("answered", extra={"pid": os.getpid()})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
