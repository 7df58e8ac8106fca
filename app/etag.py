"""ETag / If-Match: updates must name the version they were based on."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from app.errors import PreconditionFailed, PreconditionRequired

IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", description="The ETag of the version being changed."),
]


def etag(version: int) -> str:
    return f'"{version}"'


def required_version(if_match: str | None) -> int:
    """428 without If-Match; 412 when it cannot name a version (it is then stale)."""
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag of the resource.")
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    try:
        return int(value.strip('"'))
    except ValueError as exc:
        raise PreconditionFailed() from exc
