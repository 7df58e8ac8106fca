"""The hotline centre's work queue: urgency first, a response deadline, the overdue list,
and the events that announce a new report and a forward.

Rules:
- A report in `immediate_danger` must be answered within
  `VCM_HOTLINE_IMMEDIATE_DANGER_RESPONSE_MINUTES` (60 by default) of `received_at`:
  that is its `respond_by`. The law sets no such deadline; the setting is the
  centre's own. The other urgencies have none.
- Answered (`responded_at`) is the first triage of any kind: a case opened, a forward,
  a closure. A later triage by the forward target does not move it.
- Overdue: past `respond_by` and not answered. `?overdue=true` lists those,
  `?overdue=false` the rest.
- Lists put the reports in immediate danger still waiting for an answer first, then
  everything newest first (once answered, a report takes its place by time).
- A new report is announced to the recording centre's webhook endpoints as
  `hotline_report.created` with its id and codes: urgency, channel, province, and
  `respond_by` when it has one (no identity value, no free text). A forward is
  announced as `hotline_report.forwarded` (the same codes, both agencies' ids) to the
  agency it went to and to the centre.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import get_settings
from app.errors import ValidationFailed
from app.models import HotlineReport
from app.models.hotline import HotlineUrgency
from app.schemas.hotline import HotlineReportSummary
from app.services.pagination import PageParams
from app.services.webhooks.outbox import emit


def respond_by(urgency: str, received_at: datetime) -> datetime | None:
    """The response deadline of a report with this urgency (module rules)."""
    if urgency != HotlineUrgency.IMMEDIATE_DANGER:
        return None
    minutes = get_settings().hotline_immediate_danger_response_minutes
    return received_at + timedelta(minutes=minutes)


def is_overdue(report: HotlineReport, now: datetime) -> bool:
    return report.respond_by is not None and report.responded_at is None and report.respond_by < now


def mark_responded(report: HotlineReport, now: datetime) -> None:
    """Record the first answer; later triage leaves it."""
    if report.responded_at is None:
        report.responded_at = now


def summary(report: HotlineReport, now: datetime) -> HotlineReportSummary:
    return HotlineReportSummary(
        id=report.id,
        received_at=report.received_at,
        channel=report.channel,
        province_code=report.province_code,
        urgency=report.urgency,
        status=report.status,
        created_by=report.created_by,
        respond_by=report.respond_by,
        responded_at=report.responded_at,
        overdue=is_overdue(report, now),
    )


def _utc_code(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _event_codes(report: HotlineReport) -> dict[str, str]:
    """A report's id and codes for its events: no identity value, no free text."""
    data = {
        "hotline_report_id": str(report.id),
        "urgency": report.urgency,
        "channel": report.channel,
        "province_code": report.province_code,
    }
    if report.respond_by is not None:
        data["respond_by"] = _utc_code(report.respond_by)
    return data


async def announce_created(session: AsyncSession, report: HotlineReport) -> None:
    """Queue `hotline_report.created` for the recording centre (module rules)."""
    await emit(
        session,
        event_type="hotline_report.created",
        agency_ids=[report.owner_agency_id],
        data=_event_codes(report),
    )


async def announce_forwarded(session: AsyncSession, report: HotlineReport) -> None:
    """Queue `hotline_report.forwarded` for the agency it went to and the recording
    centre (module rules)."""
    assert report.forwarded_to_agency_id is not None
    data = {
        **_event_codes(report),
        "from_agency_id": str(report.owner_agency_id),
        "to_agency_id": str(report.forwarded_to_agency_id),
    }
    await emit(
        session,
        event_type="hotline_report.forwarded",
        agency_ids=[report.forwarded_to_agency_id, report.owner_agency_id],
        data=data,
    )


# 0 for a report in immediate danger still waiting for an answer, else 1.
_queue_rank = case(
    (
        and_(
            col(HotlineReport.urgency) == HotlineUrgency.IMMEDIATE_DANGER.value,
            col(HotlineReport.responded_at).is_(None),
        ),
        0,
    ),
    else_=1,
)


def _rank(report: HotlineReport) -> int:
    waiting = report.urgency == HotlineUrgency.IMMEDIATE_DANGER and report.responded_at is None
    return 0 if waiting else 1


def _encode(report: HotlineReport) -> str:
    raw = json.dumps([_rank(report), report.created_at.isoformat(), str(report.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        rank, created, row_id = json.loads(base64.urlsafe_b64decode(padded))
        if rank not in (0, 1):
            raise ValueError(rank)
        return rank, datetime.fromisoformat(created), uuid.UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed([{"field": "cursor", "message": "invalid cursor"}]) from exc


def _after(cursor: str) -> Any:
    rank, created, row_id = _decode(cursor)
    created_col, id_col = col(HotlineReport.created_at), col(HotlineReport.id)
    return or_(
        _queue_rank > rank,
        and_(
            _queue_rank == rank,
            or_(created_col < created, and_(created_col == created, id_col < row_id)),
        ),
    )


def in_queue_order(
    statement: Select[Any], params: PageParams, now: datetime, *, overdue: bool | None
) -> Select[Any]:
    """`statement` (reports) filtered by `overdue` if given, from the cursor on, in
    queue order (module rules), one row more than a page."""
    if overdue is True:
        statement = statement.where(
            col(HotlineReport.respond_by) < now, col(HotlineReport.responded_at).is_(None)
        )
    elif overdue is False:
        statement = statement.where(
            or_(
                col(HotlineReport.respond_by).is_(None),
                col(HotlineReport.respond_by) >= now,
                col(HotlineReport.responded_at).is_not(None),
            )
        )
    if params.cursor:
        statement = statement.where(_after(params.cursor))
    return statement.order_by(
        _queue_rank, col(HotlineReport.created_at).desc(), col(HotlineReport.id).desc()
    ).limit(params.limit + 1)


def page_of(
    rows: list[HotlineReport], params: PageParams
) -> tuple[list[HotlineReport], str | None]:
    """Cut the extra row and make the next cursor from the last row kept."""
    if len(rows) <= params.limit:
        return rows, None
    kept = rows[: params.limit]
    return kept, _encode(kept[-1])
