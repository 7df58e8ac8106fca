"""The time windows of the reports, in Vietnam time (UTC+7).

Rule: report dates are calendar days in Vietnam, inclusive at both ends, turned into
a half-open UTC range [first day 00:00 +07, day after the last 00:00 +07) on the
timestamp column, so a case received at 23:30 on 30 June in Hà Nội is in H1 and one
received at 00:10 on 1 July is in H2. A first day after the last is a 422. The
periodic return's named periods are in app/services/reports/calendars.py; the
summary's ranges are whole months (`months`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from app.errors import ValidationFailed

VIETNAM = timezone(timedelta(hours=7), "ICT")


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


def months(first: date | None, last: date | None) -> Window:
    """`days(first, last)` widened to whole months: the first day of `first`'s month
    to the last day of `last`'s (unbounded ends stay unbounded)."""
    days(first, last)
    start = None if first is None else first.replace(day=1)
    if last is None:
        return Window(start, None)
    following = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Window(start, following - timedelta(days=1))
