"""The summary report (`GET /api/v1/reports/summary`): persons, cases, services and
VND totals of the caller's scope, grouped by one or two dimensions.

Rules:
- Population: the cases received (Vietnam time, app/services/reports/window.py) in
  the date range and the scope's province (app/services/reports/scope.py). Measures
  per cell: `persons` (victims received), `cases`, `services` (support services
  delivered to these cases, whenever delivered) and `amount_vnd` (their sum).
- Persons are counted per reception, as the periodic return counts them: intake
  records a new person row for the victim of every case (a possible duplicate is
  reported, never merged: app/services/cases/intake.py), so each case has its own
  victim and `persons` equals `cases`. Counting is then a plain count, which hashes
  in one pass; a distinct count would sort a million rows per grouping set.
- Only non-identifying columns of `cases` and `support_services` are read; never
  `persons`, never a key, nothing is decrypted.
- Small cells: every measure of a figure counting 1 to 10 persons is published as
  `"<11"` (the amount as null), with complementary suppression so that none can be
  recovered from the published totals (app/services/reports/suppression.py, which
  also says why not rounding). Empty cells are left out.
- No differencing: the date range is widened to whole months (Vietnam time;
  `from_date` / `to_date` in the answer say which), and the aggregates are read per
  month of reception. Each month's own table is suppressed as above, and a figure
  that any month of the range hides stays hidden in the range (then complementary
  suppression runs over the range's table). So every figure a range publishes is a
  sum of figures the one-month summaries publish, and any sum or difference of
  published ranges is computable from the one-month summaries alone: comparing two
  ranges, a day or a month apart, recovers nothing a one-month summary hides. The
  price is more suppression over ranges with quiet months; the exact figures are
  the periodic return's, under `reports:exact`.
- Totals are exact: the margins and the grand total count
  each case once. `exploitation_type` and `support_type` are
  multi-valued (a case may have several forms of exploitation, a person several
  supports), so a person appears in several cells and a total is not the sum of its
  cells; the response says `multi_valued: true` then. A case without any recorded
  form / delivered support is in the cell `none`.
- Two SQL passes, each a plain GROUP BY of the month and the finest grouping (a
  parallel hash aggregate): the cases (persons and cases) and the delivered services joined to
  their cases (services and VND). Multi-valued dimensions are read as the case's
  whole set, which is single-valued (`exploitation_types`, and
  `delivered_support_types`, which a trigger on support_services keeps), and spread
  over their values in Python; a service has one type. Margins and totals are then
  exact sums of those rows, over at most a few thousand groups, never per case.
- Every request is audited as `report.summary` (scope, dimensions), no person ids.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import literal_column, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit
from app.errors import ValidationFailed
from app.i18n import msg
from app.security.principal import Principal
from app.services.reports import bands, suppression, window
from app.services.reports.scope import resolve_scope

ACTION = "report.summary"
SUPPRESSED = "<11"
MULTI_VALUED = frozenset({"exploitation_type", "support_type"})
AgeBands = Literal["hotline", "ctdc"]
WORK_MEM = "64MB"


def _as_text(expression: Any) -> str:
    # The report queries are text built from fixed fragments; the bands' own CASE
    # expression (bands.py, shared with the export) is rendered once, at import.
    return str(
        expression.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


_AGE: Any = literal_column("c.victim_age_at_intake")
AGE_SQL = {
    "hotline": _as_text(bands.hotline_band_sql(_AGE)),
    "ctdc": _as_text(bands.ctdc_band_sql(_AGE)),
}
# Dimension → SQL over `c` (cases), `e` (one exploitation type), `s` (one delivered
# support service). A fixed table: a request can only pick among these.
_DIMENSION_SQL = {
    "sex": "c.victim_sex",
    "province": "c.province_code",
    "destination_country": "coalesce(c.destination_country, 'unknown')",
    # Grouped by the case's whole set (one per case, few distinct), spread over its
    # forms in Python: see _spread.
    "exploitation_type": "c.exploitation_types",
    # Over cases: the types delivered so far (kept by a trigger), spread like the
    # exploitation types; over services: each service's own type.
    "support_type": "c.delivered_support_types",
    "status": "c.status",
    "intake_source": "c.intake_source",
    "ethnicity_group": "coalesce(c.victim_ethnicity_group, 'unknown')",
}
DIMENSIONS: tuple[str, ...] = (
    "sex",
    "age_band",
    "province",
    "destination_country",
    "exploitation_type",
    "support_type",
    "status",
    "intake_source",
    "ethnicity_group",
)
# One victim per case (see the module rule), so persons are counted as rows.
_PERSON_MEASURES = "count(*) AS persons, count(*) AS cases"
# Services and VND: each delivered service with its case's reporting columns; no
# per-case pre-aggregation (a hash of a million groups costs more than the join).
_SERVICE_FROM = "support_services s JOIN cases c ON c.id = s.case_id"
_SERVICE_MEASURES = "count(*) AS services, coalesce(sum(s.amount_vnd), 0) AS amount"


@dataclass(frozen=True)
class Figure:
    """One published figure: a cell, a margin (one dimension) or the total (none)."""

    group: dict[str, str]
    persons: int | str
    cases: int | str
    services: int | str
    amount_vnd: int | None
    suppressed: bool


@dataclass(frozen=True)
class Summary:
    scope: str
    province_code: str | None
    from_date: date | None
    to_date: date | None
    group_by: list[str]
    age_bands: str
    multi_valued: bool
    cells: list[Figure]
    margins: list[Figure]
    total: Figure
    threshold: int = suppression.THRESHOLD
    suppression: str = "complementary"
    notes: list[str] = field(default_factory=list)


def parse_group_by(values: Sequence[str]) -> list[str]:
    """`group_by` given repeated or comma-separated: at most two distinct known
    dimensions, else 422."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown or len(names) > 2 or len(set(names)) != len(names):
        raise ValidationFailed(
            [
                {
                    "field": "group_by",
                    "message": msg(
                        "one or two distinct of: {dimensions}", dimensions=", ".join(DIMENSIONS)
                    ),
                }
            ],
            "The grouping is not one or two known dimensions.",
        )
    return names


def _sql(dimension: str, age_bands: str) -> str:
    return AGE_SQL[age_bands] if dimension == "age_band" else _DIMENSION_SQL[dimension]


def _query(grouped: tuple[str, ...], age_bands: str, where: str, *, services: bool) -> str:
    """One pass grouped by the month of reception and `grouped` (a plain GROUP BY: a
    parallel hash aggregate). `services`: one row per delivered service (with its
    case, for the month); else one row per case (multi-valued dimensions come as the
    case's whole set, spread in Python)."""
    keys = [
        _MONTH,
        *("s.type" if services and d == "support_type" else _sql(d, age_bands) for d in grouped),
    ]
    if services:
        measures = _SERVICE_MEASURES
        source = _SERVICE_FROM
        where = f"s.status = 'delivered' AND {where}"
    else:
        measures = _PERSON_MEASURES
        source = "cases c"
    columns = ", ".join([*(f"{k} AS d{i}" for i, k in enumerate(keys)), measures])
    # Every fragment comes from the fixed tables above; values are bound parameters.
    return f"SELECT {columns} FROM {source} WHERE {where} GROUP BY {', '.join(keys)}"  # noqa: S608


def _grouping_sets(dims: list[str]) -> list[tuple[str, ...]]:
    if len(dims) == 2:
        return [(dims[0], dims[1]), (dims[0],), (dims[1],), ()]
    if len(dims) == 1:
        return [(dims[0],), ()]
    return [()]


Measures = tuple[int, int, int, int]
# The month of reception in Vietnam (UTC+7, no daylight saving): the summary's unit
# of time (see the module rule on differencing).
_MONTH = "to_char((c.received_at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM')"
Key = tuple[str | None, ...]


async def _aggregate(
    session: AsyncSession,
    dims: list[str],
    age_bands: str,
    province_code: str | None,
    span: window.Window,
) -> dict[str, dict[Key, Measures]]:
    """Measures per month of reception and grouping: key = one value per dimension,
    None where the dimension is rolled up (so `(None, None)` is the grand total)."""
    conditions: list[str] = ["TRUE"]
    params: dict[str, object] = {}
    if province_code is not None:
        conditions.append("c.province_code = :province")
        params["province"] = province_code
    if span.start is not None:
        conditions.append("c.received_at >= :start")
        params["start"] = span.start
    if span.end is not None:
        conditions.append("c.received_at < :end")
        params["end"] = span.end
    where = " AND ".join(conditions)
    # Two passes over the finest grouping: the cases (persons and cases), and the
    # delivered services (services and VND). Every coarser grouping is the exact sum
    # of rows, because a multi-valued dimension arrives as the case's whole set
    # (single-valued) and is spread over its values only where a grouping keeps it.
    groupings = _grouping_sets(dims)
    jobs = [
        (tuple(dims), False, [(g, 0) for g in groupings]),
        (tuple(dims), True, [(g, 2) for g in groupings]),
    ]
    found: dict[str, dict[Key, list[int]]] = {}
    # Hashes of a million rows stay in memory (the default 4 MB spills).
    await session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    for grouped, of_services, targets in jobs:
        sql = _query(grouped, age_bands, where, services=of_services)
        for row in (await session.execute(text(sql), params)).all():
            month = found.setdefault(str(row[0]), {})
            value = dict(zip(grouped, row[1 : 1 + len(grouped)], strict=True))
            measures = [int(v) for v in row[1 + len(grouped) :]]
            for grouping, offset in targets:
                pair = measures[-2:] if offset == 2 else measures[:2]
                for key in _spread(dims, grouping, value):
                    into = month.setdefault(key, [0, 0, 0, 0])
                    into[offset] += pair[0]
                    into[offset + 1] += pair[1]
    return {
        month: {key: (m[0], m[1], m[2], m[3]) for key, m in keys.items() if m[1] or not any(key)}
        for month, keys in found.items()
    }


def _spread(
    dims: list[str], grouping: tuple[str, ...], value: dict[str, object]
) -> list[tuple[str | None, ...]]:
    """The keys of `grouping` a row counts in: one, or, for each multi-valued
    dimension the grouping keeps whose value is a set (a case's exploitation types or
    delivered support types), one per value (`none` for an empty set), so a case is
    in each of its values' cells once and in a rolled-up grouping once."""
    choices: list[list[str | None]] = []
    for d in dims:
        if d not in grouping:
            choices.append([None])
            continue
        found = value[d]
        if isinstance(found, list):
            choices.append([str(v) for v in dict.fromkeys(found or ["none"])])
        else:
            choices.append([str(found)])
    return list(itertools.product(*choices))


def _figure(group: dict[str, str], measures: Measures, hidden: bool) -> Figure:
    persons, cases, services, amount = measures
    if hidden:
        return Figure(group, SUPPRESSED, SUPPRESSED, SUPPRESSED, None, True)
    return Figure(group, persons, cases, services, amount, False)


def _hidden(dims: list[str], persons: dict[Key, int], initial: set[Key]) -> set[Key]:
    """The figures of one table (cells, margins, total) to suppress, starting from
    `initial`: the primary ones and the complements along its lines."""
    total_key: Key = (None,) * len(dims)
    cells = sorted(k for k in persons if k != total_key and None not in k)
    if len(dims) == 2:
        rows = {k[0]: k for k in persons if k[0] is not None and k[1] is None}
        columns = {k[1]: k for k in persons if k[0] is None and k[1] is not None}
        lines = suppression.lines_2d(cells, rows, columns, total_key)
    else:
        lines = suppression.lines_1d(cells, total_key) if dims else []
    return suppression.protect(persons, lines, initial=initial)


def publish(
    dims: list[str], monthly: dict[str, dict[Key, Measures]]
) -> tuple[list[Figure], list[Figure], Figure]:
    """Sum the months, suppress and shape: (cells, margins, total). Cells are the
    full groupings (every dimension); margins group by one of two dimensions. A
    figure any month of the range hides in its own table stays hidden (see the
    module rule on differencing)."""
    total_key: Key = (None,) * len(dims)
    found: dict[Key, Measures] = {}
    carried: set[Key] = set()
    for month in monthly.values():
        persons_of_month = {key: m[0] for key, m in month.items()}
        persons_of_month.setdefault(total_key, 0)
        carried |= _hidden(dims, persons_of_month, set())
        for key, m in month.items():
            before = found.get(key, (0, 0, 0, 0))
            found[key] = (before[0] + m[0], before[1] + m[1], before[2] + m[2], before[3] + m[3])
    persons = {key: m[0] for key, m in found.items()}
    persons.setdefault(total_key, 0)
    hidden = _hidden(dims, persons, carried)
    cells = sorted(k for k in persons if k != total_key and None not in k)
    if len(dims) == 2:
        margin_keys = sorted(
            (k for k in persons if k[0] is not None and k[1] is None), key=str
        ) + sorted((k for k in persons if k[0] is None and k[1] is not None), key=str)
    else:
        margin_keys = []
    zero: Measures = (0, 0, 0, 0)

    def shape(key: Key) -> Figure:
        group = {d: v for d, v in zip(dims, key, strict=True) if v is not None}
        return _figure(group, found.get(key, zero), key in hidden)

    return (
        [shape(k) for k in cells],
        [shape(k) for k in margin_keys],
        shape(total_key),
    )


async def summary_report(
    session: AsyncSession,
    principal: Principal,
    *,
    province_code: str | None,
    from_date: date | None,
    to_date: date | None,
    group_by: Sequence[str],
    age_bands: AgeBands = "hotline",
) -> Summary:
    """The summary of the caller's scope (403 and a denied event outside it), small
    cells suppressed (see the module rule), audited as `report.summary`."""
    dims = parse_group_by(group_by)
    span = window.months(from_date, to_date)
    scope = await resolve_scope(session, principal, province_code, action=ACTION)
    found = await _aggregate(session, dims, age_bands, scope.province_code, span)
    cells, margins, total = publish(dims, found)
    await audit.record(
        session,
        action=ACTION,
        resource_type="report",
        resource_id=f"summary:{scope.label}",
        principal=principal,
        fields=tuple(dims),
        reason=f"cells:{len(cells) or len(margins)}",
    )
    multi = any(d in MULTI_VALUED for d in dims)
    notes = []
    if multi:
        notes.append(
            "A person may be counted in several cells of a multi-valued dimension; "
            "margins and the total count each person once."
        )
    return Summary(
        scope=scope.label,
        province_code=scope.province_code,
        from_date=span.first,
        to_date=span.last,
        group_by=dims,
        age_bands=age_bands,
        multi_valued=multi,
        cells=cells,
        margins=margins,
        total=total,
        notes=notes,
    )
