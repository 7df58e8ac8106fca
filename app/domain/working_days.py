"""Working days and the deadlines of a data subject's request (pure).

A working day is a Monday to Friday that is not a public holiday. The holidays are
data (the `public_holidays` table, seeded per year: New Year, Tết, Hùng Kings' day,
30 April, 1 May, 2 September and its adjacent day, and the compensatory days off
when a holiday falls on a weekend), passed in as a set of dates, so this module
knows no calendar of its own.

Deadlines count from the day the request was received, in Vietnam's time (UTC+7):
- acknowledge by the end of the `ack_working_days`-th working day after it (2 by
  default), so a request received on the Friday before Tết is acknowledged after it;
- complete by the end of the `complete_days`-th calendar day after it (15 by
  default): the issue says "15 days" and the law counts days, not working days.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
SATURDAY = 5


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < SATURDAY and day not in holidays


def add_working_days(start: date, count: int, holidays: Collection[date]) -> date:
    """The `count`-th working day after `start` (`start` itself is not counted);
    `start` when `count` is 0."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    left = count
    while left:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day


def local_day(moment: datetime) -> date:
    """The date in Vietnam of an aware moment."""
    return moment.astimezone(VIETNAM).date()


@dataclass(frozen=True)
class RequestDeadlines:
    acknowledge_by: date
    complete_by: date


def request_deadlines(
    received_at: datetime,
    holidays: Collection[date],
    *,
    ack_working_days: int,
    complete_days: int,
) -> RequestDeadlines:
    """The last days (inclusive, Vietnam's dates) to acknowledge and complete a
    request received at `received_at`."""
    received = local_day(received_at)
    return RequestDeadlines(
        acknowledge_by=add_working_days(received, ack_working_days, holidays),
        complete_by=received + timedelta(days=complete_days),
    )


def is_past(deadline: date, now: datetime) -> bool:
    """Whether the whole of `deadline` (a Vietnam date) has gone by at `now`."""
    return local_day(now) > deadline
