"""Working-day arithmetic (pure), across weekends and Tết."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.holidays import HOLIDAYS
from app.domain.working_days import (
    add_working_days,
    is_past,
    is_working_day,
    local_day,
    request_deadlines,
)

DAYS = frozenset(day for day, _ in HOLIDAYS)


def test_weekends_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 3, 7), DAYS)  # Saturday
    assert not is_working_day(date(2026, 3, 8), DAYS)  # Sunday
    assert is_working_day(date(2026, 3, 9), DAYS)


def test_two_working_days_over_a_weekend() -> None:
    assert add_working_days(date(2026, 3, 6), 2, DAYS) == date(2026, 3, 10)  # Fri -> Tue


def test_two_working_days_across_tet_2026() -> None:
    # Friday 13 Feb 2026: Tết runs 14-22 Feb; the next working days are 23 and 24 Feb.
    assert add_working_days(date(2026, 2, 13), 2, DAYS) == date(2026, 2, 24)
    # Without the holiday calendar it would be Tuesday 17 Feb.
    assert add_working_days(date(2026, 2, 13), 2, frozenset()) == date(2026, 2, 17)


def test_received_during_tet_2025() -> None:
    # Received on the first weekday of Tết 2025 (Mon 27 Jan); work resumes Mon 3 Feb.
    assert add_working_days(date(2025, 1, 27), 2, DAYS) == date(2025, 2, 4)


def test_tet_2027_and_hung_kings() -> None:
    assert add_working_days(date(2027, 2, 4), 1, DAYS) == date(2027, 2, 15)
    # Hùng Kings' day 2027 is Friday 16 April.
    assert add_working_days(date(2027, 4, 15), 1, DAYS) == date(2027, 4, 19)


def test_compensatory_day_off() -> None:
    # Hùng Kings' day 2026 falls on Sunday 26 April: Monday 27 is off instead.
    assert not is_working_day(date(2026, 4, 27), DAYS)


def test_zero_and_negative_counts() -> None:
    assert add_working_days(date(2026, 2, 14), 0, DAYS) == date(2026, 2, 14)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 2, 14), -1, DAYS)


def test_deadlines_use_vietnam_dates() -> None:
    # 18:00 UTC on Thursday 12 Feb 2026 is already Friday 13 Feb in Vietnam.
    received = datetime(2026, 2, 12, 18, 0, tzinfo=UTC)
    assert local_day(received) == date(2026, 2, 13)
    found = request_deadlines(received, DAYS, ack_working_days=2, complete_days=15)
    assert found.acknowledge_by == date(2026, 2, 24)
    # Completion counts calendar days, Tết included.
    assert found.complete_by == date(2026, 2, 28)


def test_a_deadline_is_past_only_after_its_whole_day() -> None:
    deadline = date(2026, 2, 28)
    end = datetime(2026, 2, 28, 16, 59, tzinfo=UTC)  # 23:59 in Vietnam
    assert not is_past(deadline, end)
    assert is_past(deadline, end + timedelta(minutes=1))


def test_every_seeded_year_has_new_year_tet_and_national_day() -> None:
    for year in (2025, 2026, 2027):
        assert date(year, 1, 1) in DAYS
        assert date(year, 9, 2) in DAYS
        assert sum(1 for d in DAYS if d.year == year and d.month in (1, 2)) >= 6
