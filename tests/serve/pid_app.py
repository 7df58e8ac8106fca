"""A bare ASGI app that answers with its process id, and on /frozen with how many
objects its process has frozen out of the garbage collector (for tests/serve)."""

from __future__ import annotations

import gc
import logging
import os

from starlette.types import Receive, Scope, Send

log = logging.getLogger("vcm.test.pid_app")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = str(gc.get_freeze_count() if scope["path"] == "/frozen" else os.getpid()).encode()
    log.info("answered", extra={"pid": os.getpid()})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
