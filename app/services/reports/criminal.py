"""The periodic return's criminal-justice figures: reports of crime resolved and cases
brought to trial, from the criminal proceedings cases belong to
(`app.domain.criminal`).

Rules:
- A report of crime resolved is a proceeding whose `resolved_at` falls in the period:
  the first time it moved past `investigating` (to `prosecuted` or `tried`, or to
  `closed` with an outcome other than `suspended`). Its parts are where it stands now
  (`prosecuted`, `tried`, `closed`).
- A case tried is a proceeding whose `tried_at` falls in the period: it reached
  `tried`, or was closed with a trial's verdict. Its parts are the verdict
  (`convicted`, `acquitted`), `awaiting` (no verdict recorded yet) or `other` (closed
  otherwise after the trial).
- Counted per proceeding recorded on a victim's case: the reference is sealed under
  each victim's own key, so one criminal case with three victims recorded on their
  three cases counts three times (as the persons figures count victims).
- Province: the investigating agency's, else (a national agency) the province that
  received the case.
- One SQL aggregate over non-identifying columns; the reference is never read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# (name, title, total, [(key, label, count), ...])
Section = tuple[str, str, int, list[tuple[str, str, int]]]

_RESOLVED = "p.resolved_at >= :start AND p.resolved_at < :end"
_TRIED = "p.tried_at >= :start AND p.tried_at < :end"
_RESOLVED_PARTS = (
    ("prosecuted", "Prosecuted", "p.stage = 'prosecuted'"),
    ("tried", "Tried", "p.stage = 'tried'"),
    ("closed", "Closed", "p.stage = 'closed'"),
)
_TRIED_PARTS = (
    ("convicted", "Convicted", "p.outcome = 'convicted'"),
    ("acquitted", "Acquitted", "p.outcome = 'acquitted'"),
    ("awaiting", "Verdict not recorded", "p.outcome IS NULL"),
    ("other", "Closed otherwise", "p.outcome IN ('dismissed', 'suspended')"),
)


async def sections(
    session: AsyncSession, province: str | None, window: dict[str, Any]
) -> list[Section]:
    """The two sections for the period `window` (`start`, `end`) in `province` (None:
    the whole country)."""
    params = {"start": window["start"], "end": window["end"]}
    scope = ""
    if province is not None:
        scope = "AND coalesce(a.province_code, c.province_code) = :province"
        params["province"] = province
    columns = [f"count(*) FILTER (WHERE {_RESOLVED})"]
    columns += [f"count(*) FILTER (WHERE {_RESOLVED} AND {c})" for _, _, c in _RESOLVED_PARTS]
    columns.append(f"count(*) FILTER (WHERE {_TRIED})")
    columns += [f"count(*) FILTER (WHERE {_TRIED} AND {c})" for _, _, c in _TRIED_PARTS]
    sql = (
        f"SELECT {', '.join(columns)} FROM criminal_proceedings p "  # noqa: S608 (constants)
        "JOIN agencies a ON a.id = p.investigating_agency_id "
        "JOIN cases c ON c.id = p.case_id "
        f"WHERE (({_RESOLVED}) OR ({_TRIED})) {scope}"
    )
    counts = [int(n) for n in (await session.execute(text(sql), params)).one()]
    resolved, tried = counts[0], counts[1 + len(_RESOLVED_PARTS)]
    resolved_parts = counts[1 : 1 + len(_RESOLVED_PARTS)]
    tried_parts = counts[2 + len(_RESOLVED_PARTS) :]
    return [
        (
            "crime_reports_resolved",
            "Reports of crime resolved (proceedings past investigation), by stage now",
            resolved,
            [
                (k, label, n)
                for (k, label, _), n in zip(_RESOLVED_PARTS, resolved_parts, strict=True)
            ],
        ),
        (
            "cases_tried",
            "Criminal cases brought to trial, by verdict",
            tried,
            [(k, label, n) for (k, label, _), n in zip(_TRIED_PARTS, tried_parts, strict=True)],
        ),
    ]
