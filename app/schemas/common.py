"""Shapes shared by many endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator
from starlette.responses import Response

T = TypeVar("T")


class StrictInput(BaseModel):
    """Request bodies refuse unknown fields (422), so a typo is not silently dropped.

    Times given with an offset are kept as the same instant in UTC: the API answers
    in UTC (API.md), whatever offset a client sent.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _instants_in_utc(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold U+0000: refuse it here (422), not there (500).
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise ValueError("must not contain the NUL character")
        return value


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[dict[str, str]] | None = None


_PROBLEM_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing or invalid access token",
    403: "The role lacks the permission",
    404: "Not found, or not visible to the caller",
    409: "Conflict with the current state",
    412: "If-Match names a stale version",
    413: "Request body too large",
    422: "Invalid input",
    428: "If-Match required",
    429: "Too many attempts; see Retry-After",
    500: "Internal error",
    503: "Service temporarily unavailable",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers a route can give."""
    return {
        code: {
            "model": Problem,
            "description": _PROBLEM_DESCRIPTIONS[code],
            "content": {"application/problem+json": {}},
        }
        for code in codes
    }


def written(model: BaseModel, *, headers: dict[str, str] | None = None) -> Response:
    """`model` as the JSON response, written out once. For the busiest routes: a model
    built by the service is already valid, and returning it would make FastAPI
    validate it again against the route's `response_model` (which still documents
    the shape)."""
    return Response(model.model_dump_json(), media_type="application/json", headers=headers)
