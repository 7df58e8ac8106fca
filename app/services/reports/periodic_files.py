"""The periodic return as files: one flat CSV table, or an XLSX sheet per table.

Rules:
- Labels, headers and sheet names are in the report's language (labels.py); the
  keys (section, key) never change, so a program reads either language alike.
- CSV: one table of (section, key, label, count, amount, denominator, percent,
  hotspot): the report's particulars (`report`), the headline figures (`headline`),
  the targets (`targets`: the count is the numerator), then each breakdown's parts
  and its total.
- XLSX: a sheet for the particulars and headline figures, one for the targets, then
  one per breakdown (in the order of the JSON), each ending with its total; the
  amount column only where a breakdown has amounts, the hotspot column only in the
  breakdown by commune.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.services.reports import labels
from app.services.reports.formats import Cell, Sheet
from app.services.reports.labels import Language
from app.services.reports.periodic import Breakdown, Periodic

_HEADLINE = (
    "hotline_received",
    "hotline_resolved",
    "hotline_forwarded",
    "hotline_open",
    "persons_received",
    "persons_verified",
    "persons_identified",
    "persons_received_in_hotspots",
)


def _particulars(report: Periodic) -> list[tuple[str, str]]:
    language = report.language
    calendar = report.calendar or ""
    if calendar == "default":
        calendar = "mặc định" if language == "vi" else "default"
    return [
        ("period", report.period),
        ("from", report.first_day.isoformat()),
        ("to", report.last_day.isoformat()),
        ("scope", report.scope),
        ("calendar", calendar),
    ]


def _yes(value: bool, language: Language) -> str | None:
    return labels.column("yes", language) if value else None


def csv_table(report: Periodic) -> list[Sequence[Cell]]:
    """The report as one table for CSV (see the module rules)."""
    language = report.language
    names = ("section", "key", "label", "count", "amount_vnd", "denominator", "percent")
    table: list[Sequence[Cell]] = [
        [*(labels.column(n, language) for n in names), labels.column("hotspot", language)]
    ]
    for key, value in _particulars(report):
        table.append(("report", key, labels.headline(key, language), value))
    for key in _HEADLINE:
        table.append(("headline", key, labels.headline(key, language), getattr(report, key)))
    for target in report.targets:
        table.append(
            (
                "targets",
                target.key,
                target.label,
                target.numerator,
                None,
                target.denominator,
                target.percent,
            )
        )
    for breakdown in report.breakdowns:
        for part in breakdown.parts:
            table.append(
                (
                    breakdown.name,
                    part.key,
                    part.label,
                    part.count,
                    part.amount_vnd,
                    None,
                    None,
                    _yes(part.hotspot, language),
                )
            )
        total = labels.headline("total", language)
        table.append((breakdown.name, "total", total, breakdown.total, breakdown.amount_vnd))
    return table


def _breakdown_sheet(breakdown: Breakdown, report: Periodic) -> Sheet:
    language = report.language
    amounts = breakdown.amount_vnd is not None
    hotspots = breakdown.name == "commune"
    header = [labels.column(n, language) for n in ("key", "label", "count")]
    header += [labels.column("amount_vnd", language)] * amounts
    header += [labels.column("hotspot", language)] * hotspots
    rows: list[Sequence[Cell]] = []
    for part in breakdown.parts:
        row: list[Cell] = [part.key, part.label, part.count]
        row += [part.amount_vnd] * amounts
        row += [_yes(part.hotspot, language)] * hotspots
        rows.append(row)
    total: list[Cell] = ["total", labels.headline("total", language), breakdown.total]
    rows.append([*total, *[breakdown.amount_vnd] * amounts])
    return Sheet(
        labels.sheet(breakdown.name, language),
        f"{breakdown.title} — {report.scope} {report.period}",
        header,
        rows,
    )


def sheets(report: Periodic) -> list[Sheet]:
    """The report as XLSX sheets (see the module rules)."""
    language = report.language
    heading = f"{labels.sheet('report', language)} — {report.scope} {report.period}"
    first = Sheet(
        labels.sheet("report", language),
        heading,
        [labels.column(n, language) for n in ("key", "label", "value")],
        [
            *((key, labels.headline(key, language), value) for key, value in _particulars(report)),
            *((key, labels.headline(key, language), getattr(report, key)) for key in _HEADLINE),
        ],
    )
    names = ("key", "label", "numerator", "denominator", "percent", "target_percent")
    targets = Sheet(
        labels.sheet("targets", language),
        f"{labels.sheet('targets', language)} — {report.scope} {report.period}",
        [labels.column(n, language) for n in names],
        [
            (t.key, t.label, t.numerator, t.denominator, t.percent, t.target_percent)
            for t in report.targets
        ],
    )
    return [first, targets, *(_breakdown_sheet(b, report) for b in report.breakdowns)]
