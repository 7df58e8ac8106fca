"""Report periods: the named periods of a province's calendar, or explicit dates.

Rules:
- `period=` takes
  - `YYYY` (annual), `YYYY-S1` / `YYYY-S2` (six-monthly), `YYYY-Q1`..`YYYY-Q4`
    (quarterly): the named period of the scope province's calendar of that kind
    (`report_calendars`, app/models/report_config.py), else the default calendar;
  - `YYYY-H1` / `YYYY-H2`: calendar halves (1 January – 30 June, 1 July –
    31 December), fixed, kept for the clients of the first returns;
  - `YYYY-MM-DD..YYYY-MM-DD`: explicit Vietnam days, inclusive at both ends.
  Anything else, a year outside 1990–2100, or a first day after the last, is a 422.
- The default calendar is the plans' (seeded by migration 20261203_report_calendars):
  six-monthly S1 16 November (the year before) – 15 May, S2 16 May – 15 November;
  quarterly Q1 16 November – 15 February, Q2 16 February – 15 May, Q3 16 May –
  15 August, Q4 16 August – 15 November (two quarters make a half); annual 16 December
  (the year before) – 15 December.
- A calendar's periods cover every day of the year exactly once, in order (checked
  on every read: a bad row is a server error, never a silently wrong return).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.i18n import msg
from app.services.reports.window import Window

DEFAULT = "default"
_NAMED = re.compile(r"^(\d{4})(?:-([SQH])([1-4]))?$")
_DATES = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_KINDS = {None: "annual", "S": "six_monthly", "Q": "quarterly"}
COUNTS = {"annual": 1, "six_monthly": 2, "quarterly": 4}
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
# The expected form, for the 422 and the OpenAPI pattern.
PATTERN = r"^[0-9]{4}(-([SH][12]|Q[1-4]|[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2}))?$"
FORMS = "YYYY, YYYY-S1|S2, YYYY-Q1..Q4, YYYY-H1|H2 or YYYY-MM-DD..YYYY-MM-DD"


@dataclass(frozen=True)
class Request:
    """A parsed `period=`: a kind and a year with the period's number, or two days."""

    text: str
    kind: str  # annual, six_monthly, quarterly, calendar_half, dates
    year: int = 0
    number: int = 1
    first: date | None = None
    last: date | None = None


@dataclass(frozen=True)
class Period:
    """A resolved period: its days, its kind and the calendar that defined it
    (a province code, `default`, or None for calendar halves and explicit dates)."""

    name: str
    kind: str
    calendar: str | None
    first: date
    last: date

    @property
    def window(self) -> Window:
        return Window(self.first, self.last)


def _invalid(message: str | None = None) -> ValidationFailed:
    message = message or msg("expected {forms}", forms=FORMS)
    return ValidationFailed(
        [{"field": "period", "message": message}], "The period is not one this service knows."
    )


def parse(value: str) -> Request:
    """The period asked for; 422 when malformed."""
    dates = _DATES.match(value)
    if dates:
        try:
            first, last = date.fromisoformat(dates.group(1)), date.fromisoformat(dates.group(2))
        except ValueError:
            raise _invalid("not a calendar date") from None
        if first > last:
            raise _invalid("the first day comes after the last")
        if not (first.year >= 1990 and last.year <= 2100):
            raise _invalid("years run from 1990 to 2100")
        return Request(value, "dates", first=first, last=last)
    named = _NAMED.match(value)
    if named is None or not 1990 <= int(named.group(1)) <= 2100:
        raise _invalid()
    year, letter, number = int(named.group(1)), named.group(2), named.group(3)
    if letter == "H":
        if number not in ("1", "2"):
            raise _invalid()
        return Request(value, "calendar_half", year, int(number))
    kind = _KINDS[letter]
    if letter and int(number) > COUNTS[kind]:
        raise _invalid()
    return Request(value, kind, year, int(number or 1))


def _month_day(value: Any) -> tuple[int, int]:
    match = _MONTH_DAY.match(value) if isinstance(value, str) else None
    if match is None or (match.group(1), match.group(2)) == ("02", "29"):
        raise ValueError(f"not a month and day (MM-DD, never 02-29): {value!r}")
    month, day = int(match.group(1)), int(match.group(2))
    date(2001, month, day)  # raises ValueError when there is no such day
    return month, day


def spans(definitions: Sequence[Mapping[str, Any]], year: int) -> list[tuple[date, date]]:
    """The first and last day of each period of `year`, in order."""
    result = []
    for definition in definitions:
        first_md, last_md = _month_day(definition.get("first")), _month_day(definition.get("last"))
        first_year = year - 1 if first_md > last_md else year
        result.append((date(first_year, *first_md), date(year, *last_md)))
    return result


def check(kind: str, definitions: Any) -> None:
    """A calendar of `kind` has its number of periods, which cover every day once, in
    order (tried on a common and a leap year); ValueError otherwise."""
    if not isinstance(definitions, list) or len(definitions) != COUNTS.get(kind, -1):
        raise ValueError(f"a {kind} calendar has {COUNTS.get(kind)} periods")
    for year in (2027, 2028):
        days = [*spans(definitions, year - 1)[-1:], *spans(definitions, year)]
        for (_, last), (first, _) in itertools.pairwise(days):
            if first != last + timedelta(days=1):
                raise ValueError(f"the {kind} periods leave a gap or overlap before {first}")


async def resolve(session: AsyncSession, asked: Request, province_code: str | None) -> Period:
    """The days of the period asked for, in the calendar of `province_code` (the
    default one for the whole country or a province without its own)."""
    if asked.kind == "dates":
        assert asked.first is not None and asked.last is not None
        return Period(asked.text, "dates", None, asked.first, asked.last)
    if asked.kind == "calendar_half":
        first = date(asked.year, 1, 1) if asked.number == 1 else date(asked.year, 7, 1)
        last = date(asked.year, 6, 30) if asked.number == 1 else date(asked.year, 12, 31)
        return Period(asked.text, "calendar_half", None, first, last)
    row = (
        await session.execute(
            text(
                "SELECT province_code, periods FROM report_calendars WHERE kind = :kind "
                "AND (province_code = :province OR province_code IS NULL) "
                "ORDER BY province_code NULLS LAST LIMIT 1"
            ),
            {"kind": asked.kind, "province": province_code},
        )
    ).first()
    if row is None:
        raise _invalid(msg("no {kind} calendar is kept", kind=asked.kind.replace("_", "-")))
    check(asked.kind, row[1])
    first, last = spans(row[1], asked.year)[asked.number - 1]
    return Period(asked.text, asked.kind, row[0] or DEFAULT, first, last)
