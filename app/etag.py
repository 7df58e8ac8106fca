"""ETag / If-Match: updates must name the version they were based on."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from app.errors import PreconditionFailed, PreconditionRequired

IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", description="The ETag of the version being changed."),
]


# What an If-Match that names no version stands for: versions start at 1, so it is
# stale against any resource, and the 412 then carries the resource's ETag.
NO_VERSION = 0


def etag(version: int) -> str:
    return f'"{version}"'


def stale(current_version: int) -> PreconditionFailed:
    """412 for an If-Match older than the resource, with the current `ETag` so the
    client can read again (or retry) without guessing."""
    return PreconditionFailed(headers={"ETag": etag(current_version)})


def required_version(if_match: str | None) -> int:
    """428 without If-Match; `NO_VERSION` when it cannot name a version (stale: the
    service's version check answers 412 with the current ETag)."""
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag of the resource.")
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    try:
        return int(value.strip('"'))
    except ValueError:
        return NO_VERSION
