"""Schemathesis over the app's own OpenAPI document, in process.

Cases are drawn by Hypothesis first (derandomized, no I/O), then sent through the test
session's `httpx.AsyncClient` on the session's event loop, so the app, its engine and
the test database are the ones every other test uses. Drawing before sending gives up
Hypothesis's shrinking: a failure is reported with the exact request instead.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.config import Settings
from app.main import create_app

# Examples per operation, per generation mode and per role: small in `make test`,
# large in `make fuzz`.
EXAMPLES = int(os.environ.get("VCM_FUZZ_EXAMPLES", "2"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Ends the caller's session: run last, so the other operations are tried signed in.
LAST = ("POST", "/api/v1/auth/logout")


def load_schema() -> Any:
    document = create_app(Settings(VCM_ENV="dev")).openapi()  # type: ignore[call-arg]
    return schemathesis.openapi.from_dict(document)


def operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda op: ((op.method.upper(), op.path) == LAST, op.path))


def draw(operation: Any, mode: GenerationMode, **fixed: Any) -> list[Case]:
    """`EXAMPLES` cases of one operation; `fixed` pins parts (known path ids)."""
    drawn: list[Case] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode, **fixed))
    def collect(case: Case) -> None:
        drawn.append(case)

    # Unsatisfiable: nothing to make invalid (an operation without parameters or body).
    with contextlib.suppress(Unsatisfiable):
        collect()
    return drawn


@dataclass
class Finding:
    label: str
    request: str
    status: int
    message: str

    def __str__(self) -> str:
        return f"{self.label} -> {self.status}\n  {self.request}\n  {self.message[:1500]}"


async def send(client: httpx.AsyncClient, case: Case, headers: dict[str, str]) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    request: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": kwargs.get("headers"),
        "params": kwargs.get("params"),
        "cookies": kwargs.get("cookies") or None,
    }
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), bytes | str):
        request["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        request["data"] = kwargs["data"]
    if kwargs.get("files"):
        request["files"] = kwargs["files"]
    return await client.request(**request)


async def exercise(
    client: httpx.AsyncClient, case: Case, headers: dict[str, str]
) -> tuple[int, Finding | None]:
    """Send one case and run the checks: the status, and a finding if a check failed."""
    try:
        response = await send(client, case, headers)
    except Exception as exc:  # the app raised: the client would have had a 500
        return 500, Finding(f"{case.method} {case.path}", repr(case.body)[:600], 500, repr(exc))
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (AssertionError, BaseExceptionGroup) as exc:  # a check failed
        return response.status_code, Finding(
            label=f"{case.method} {case.path}",
            request=f"{response.request.method} {response.request.url} body={case.body!r}"[:600],
            status=response.status_code,
            message=str(exc),
        )
    return response.status_code, None
