"""De-identified exports: `GET /api/v1/exports/ctdc.csv`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.db import SessionDep, TransactionRoute
from app.deps import require
from app.schemas.common import problem_responses
from app.security.permissions import Permission
from app.security.principal import Principal
from app.services.reports import ctdc

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/exports",
    tags=["reports"],
    responses=problem_responses(401, 403, 404),
)

# Hidden: a role without reports:read (case work, system administration) learns
# nothing of what exists.
ReadReports = Annotated[Principal, require(Permission.REPORTS_READ, hide=True)]

_RANGE_HELP = "An ISO date (2026-03-31) or a year (2026); widened to the whole year."

_CSV_HEADERS = {
    "X-Released-Rows": "Rows in the file.",
    "X-Suppressed-Rows": "Identified victims left out because their class stayed under k.",
    "X-K-Anonymity": "The k every row's combination of values reaches (11).",
    "X-Generalisation": "The generalisation level chosen per column, e.g. `ageBroad=1`.",
    "Content-Disposition": "attachment; filename=ctdc-<scope>.csv",
}


@router.get(
    "/ctdc.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One row per identified victim in the CTDC vocabulary, k = 11.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "headers": {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in _CSV_HEADERS.items()
            },
        }
    },
)
async def export_ctdc(
    session: SessionDep,
    principal: ReadReports,
    province_code: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
    from_: Annotated[str | None, Query(alias="from", description=_RANGE_HELP)] = None,
    to: Annotated[str | None, Query(description=_RANGE_HELP)] = None,
) -> StreamingResponse:
    """Identified victims of the caller's scope (own province; any province or the whole
    country for a national agency) as CTDC rows, k-anonymised with k = 11: every
    combination of values occurs at least 11 times; rows that cannot be made so are
    left out and counted in `X-Suppressed-Rows`. `from` and `to` are ISO dates like
    the summary report's (a bare year is accepted too), widened to whole years of
    registration: a row says only its year, and two exports of ranges a day apart
    would otherwise tell that day's victims apart. Audited as `export.ctdc`."""
    year_from, year_to = ctdc.year_range(from_, to)
    export = await ctdc.export_ctdc(
        session, principal, province_code=province_code, year_from=year_from, year_to=year_to
    )
    return StreamingResponse(
        export.csv_chunks(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="ctdc-{export.scope}.csv"',
            "Cache-Control": "no-store",
            "X-Released-Rows": str(export.released),
            "X-Suppressed-Rows": str(export.suppressed),
            "X-K-Anonymity": str(ctdc.K),
            "X-Generalisation": export.generalisation,
        },
    )
