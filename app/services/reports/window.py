"""The time windows of the reports, in Vietnam time (UTC+7).

Rule: report dates are calendar days in Vietnam, inclusive at both ends, turned into
a half-open UTC range [first day 00:00 +07, day after the last 00:00 +07) on the
timestamp column, so a case received at 23:30 on 30 June in Hà Nội is in H1 and one
received at 00:10 on 1 July is in H2. Periods: `YYYY` (the whole year), `YYYY-H1`
(1 January – 30 June), `YYYY-H2` (1 July – 31 December). A malformed period, or a
first day after the last, is a 422.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from app.errors import ValidationFailed

VIETNAM = timezone(timedelta(hours=7), "ICT")
_PERIOD = re.compile(r"^(\d{4})(?:-(H1|H2))?$")


@dataclass(frozen=True)
class Window:
    """Calendar days `first`..`last` (inclusive; None: unbounded) and their UTC bounds."""

    first: date | None
    last: date | None

    @property
    def start(self) -> datetime | None:
        return None if self.first is None else datetime.combine(self.first, time(), VIETNAM)

    @property
    def end(self) -> datetime | None:
        """Exclusive: midnight (Vietnam) after the last day."""
        if self.last is None:
            return None
        return datetime.combine(self.last + timedelta(days=1), time(), VIETNAM)


def days(first: date | None, last: date | None) -> Window:
    """The window of `from`..`to` (inclusive); 422 when `from` comes after `to`."""
    if first is not None and last is not None and first > last:
        raise ValidationFailed(
            [{"field": "from", "message": "must not be after 'to'"}],
            "The first day comes after the last.",
        )
    return Window(first, last)


def period(text: str) -> Window:
    """The window of a period `YYYY`, `YYYY-H1` or `YYYY-H2`; 422 otherwise."""
    match = _PERIOD.match(text)
    year = int(match.group(1)) if match else 0
    if match is None or not 1990 <= year <= 2100:
        raise ValidationFailed(
            [{"field": "period", "message": "expected YYYY, YYYY-H1 or YYYY-H2"}],
            "The period is not a year or a half year.",
        )
    half = match.group(2)
    if half == "H1":
        return Window(date(year, 1, 1), date(year, 6, 30))
    if half == "H2":
        return Window(date(year, 7, 1), date(year, 12, 31))
    return Window(date(year, 1, 1), date(year, 12, 31))
