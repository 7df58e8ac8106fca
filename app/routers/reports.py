"""Reports: `GET /api/v1/reports/summary`, `GET /api/v1/reports/periodic` and
`GET /api/v1/reports/processing-record`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.config import Settings
from app.db import SessionDep, TransactionRoute
from app.deps import require
from app.errors import prefers_english
from app.schemas.common import problem_responses
from app.schemas.processing_record import ProcessingRecord
from app.schemas.reports import AgeBands, PeriodicFormat, PeriodicReport, SummaryReport
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.reports import (
    calendars,
    formats,
    periodic,
    periodic_files,
    processing_record,
    summary,
)
from app.services.reports.labels import Language

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/reports",
    tags=["reports"],
    responses=problem_responses(401, 403, 404, 422),
)

# Hidden: a role without reports:read (case work, system administration) learns
# nothing of what exists.
ReadReports = Annotated[Principal, require(Permission.REPORTS_READ, hide=True)]
# Exact figures: the reporting officer's; hidden (404) from roles without any report
# permission, refused (403) to analysts and supervisors, who know reports exist.
ReadExact = Annotated[
    Principal,
    require(Permission.REPORTS_EXACT, hide=True, visible_to=Permission.REPORTS_READ),
]
# The record of processing: auditors and system administrators (not hidden: it holds
# no case data).
ReadProcessingRecord = Annotated[Principal, require(Permission.PROCESSING_RECORD_READ)]
Province = Annotated[str | None, Query(pattern=r"^[0-9]{2}$")]

_FILES = {
    PeriodicFormat.CSV: "text/csv; charset=utf-8",
    PeriodicFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/summary", response_model=SummaryReport)
async def summary_report(
    session: SessionDep,
    principal: ReadReports,
    province_code: Province = None,
    from_date: Annotated[date | None, Query(alias="from")] = None,
    to_date: Annotated[date | None, Query(alias="to")] = None,
    group_by: Annotated[
        list[str],
        Query(description="One or two dimensions, repeated or comma-separated."),
    ] = [],  # noqa: B006 (FastAPI copies query defaults)
    age_bands: AgeBands = AgeBands.HOTLINE,
) -> Any:
    """Persons (distinct victims), cases, delivered services and their VND, of the
    cases received from `from` to `to` (Vietnam days, inclusive, widened to whole
    months) in the caller's scope, grouped by one or two dimensions, with margins and
    the total. A figure of 1 to 10 persons is `"<11"`, and complementary cells are
    suppressed so none can be recovered from the totals; a figure hidden in any
    month's own summary stays hidden in every range containing that month, so
    comparing ranges recovers nothing. Audited as `report.summary`."""
    report = await summary.summary_report(
        session,
        principal,
        province_code=province_code,
        from_date=from_date,
        to_date=to_date,
        group_by=group_by,
        age_bands=age_bands.value,
    )
    return SummaryReport.model_validate(report)


@router.get(
    "/periodic",
    response_model=PeriodicReport,
    responses={
        200: {
            "description": "The return as JSON, or as a CSV or XLSX attachment.",
            "content": {media: {"schema": {"type": "string"}} for media in _FILES.values()},
        }
    },
)
async def periodic_report(
    request: Request,
    session: SessionDep,
    principal: ReadExact,
    period: Annotated[
        str,
        Query(
            pattern=calendars.PATTERN,
            examples=["2026-S1", "2026-Q1", "2026", "2026-01-01..2026-03-31"],
        ),
    ],
    province_code: Province = None,
    format: PeriodicFormat = PeriodicFormat.JSON,
) -> Any:
    """The official return of the caller's scope in the shape the provinces send up,
    for a named period of the province's calendar (`YYYY` annual, `YYYY-S1`/`S2`
    six-monthly, `YYYY-Q1`..`Q4` quarterly; the default calendar is the plans':
    halves cut off at 15 May and 15 November, the year from 16 December), calendar
    halves `YYYY-H1`/`H2`, or explicit days `YYYY-MM-DD..YYYY-MM-DD`. Exact counts
    (no suppression), each breakdown adding up to its total, the plans' targets, and
    hotspot communes flagged. Needs `reports:exact` (the reporting officer). Labels
    follow `Accept-Language` (Vietnamese unless English is preferred).
    `format=csv|xlsx` answers a file attachment. Audited as `report.periodic`."""
    language: Language = "en" if prefers_english(request.headers.get("accept-language")) else "vi"
    report = await periodic.periodic_report(
        session,
        principal,
        period=period,
        province_code=province_code,
        file_format=format.value,
        language=language,
    )
    if format is PeriodicFormat.JSON:
        return PeriodicReport.model_validate(report)
    body = (
        formats.csv_bytes(periodic_files.csv_table(report))
        if format is PeriodicFormat.CSV
        else formats.xlsx_bytes(periodic_files.sheets(report))
    )
    return Response(
        content=body,
        media_type=_FILES[format],
        headers={
            "Content-Disposition": (
                f'attachment; filename="report-{report.scope}-{report.period}.{format.value}"'
            ),
            "Content-Language": language,
            "Cache-Control": "no-store",
        },
    )


@router.get("/processing-record", response_model=ProcessingRecord)
async def processing_record_report(
    request: Request, session: SessionDep, principal: ReadProcessingRecord
) -> ProcessingRecord:
    """The record of processing activities, built from the code and the data: the
    categories of personal data held (identity, encrypted; statistics, plain), the
    purposes of use, the kinds of agencies that received referrals and the legal bases
    they were made on (with counts), and the retention settings. Auditors and system
    administrators. Audited as `report.processing_record`."""
    settings: Settings = request.app.state.settings
    return await processing_record.processing_record(session, principal, settings)
