"""Keyset pagination: `?limit=` (1..100) and an opaque `?cursor=`.

The cursor encodes the sort key of the last row returned (time and id), so pages stay
stable while rows are added and no OFFSET scan grows with depth.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query
from sqlalchemy import Select, and_, or_

from app.errors import ValidationFailed

T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size (1 to 100).")] = 20,
    cursor: Annotated[str | None, Query(max_length=200, description="From next_cursor.")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created), uuid.UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed([{"field": "cursor", "message": "invalid cursor"}]) from exc


def paginate(
    statement: Select[Any],
    params: PageParams,
    created_col: Any,
    id_col: Any,
    *,
    oldest_first: bool = False,
) -> Select[Any]:
    """Newest first (or oldest first: a history read in order); fetches one extra row
    to know whether a next page exists."""
    if params.cursor:
        created, row_id = decode_cursor(params.cursor)
        if oldest_first:
            after = or_(created_col > created, and_(created_col == created, id_col > row_id))
        else:
            after = or_(created_col < created, and_(created_col == created, id_col < row_id))
        statement = statement.where(after)
    order = (created_col, id_col) if oldest_first else (created_col.desc(), id_col.desc())
    return statement.order_by(*order).limit(params.limit + 1)


def page_of(rows: list[T], params: PageParams, key: Any) -> tuple[list[T], str | None]:
    """Cut the extra row and build the next cursor from the last row kept."""
    if len(rows) <= params.limit:
        return rows, None
    kept = rows[: params.limit]
    created, row_id = key(kept[-1])
    return kept, encode_cursor(created, row_id)


def page_in_memory(items: list[T], params: PageParams) -> tuple[list[T], str | None]:
    """A page of a short list built in memory (a case's participants, an exact-match
    search): the cursor is the position of the next item, valid for the same query
    while the list does not change."""
    start = 0
    if params.cursor:
        try:
            padded = params.cursor + "=" * (-len(params.cursor) % 4)
            (start,) = json.loads(base64.urlsafe_b64decode(padded))
            if not isinstance(start, int) or start < 0:
                raise ValueError(start)
        except (ValueError, TypeError) as exc:
            raise ValidationFailed([{"field": "cursor", "message": "invalid cursor"}]) from exc
    end = start + params.limit
    if end >= len(items):
        return items[start:], None
    cursor = base64.urlsafe_b64encode(json.dumps([end]).encode()).decode().rstrip("=")
    return items[start:end], cursor
