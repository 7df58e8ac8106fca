"""Column helpers shared by the table models."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Column, DateTime, func
from sqlmodel import Field

_F = TypeVar("_F", bound=Callable[..., Any])


def factory(fn: _F) -> _F:
    """A default factory with its signature stated (no arguments). SQLModel asks
    pydantic for a field's default on every construction of a table model, and pydantic
    inspects the factory's signature each time (`inspect.signature` on a builtin such
    as `list` parses its text signature: about a millisecond of an intake's CPU);
    a `__signature__` answers that at once."""
    fn.__signature__ = inspect.Signature()  # type: ignore[attr-defined]
    return fn


@factory
def utcnow() -> datetime:
    return datetime.now(UTC)


@factory
def new_id() -> uuid.UUID:
    return uuid.uuid4()


@factory
def empty_list() -> list[Any]:
    return []


def uuid_pk() -> Any:
    return Field(default_factory=new_id, primary_key=True)


def created_at_column() -> Any:
    return Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def timestamp_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index),
    )
