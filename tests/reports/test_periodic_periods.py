"""The periods of the periodic return: named periods of the province's calendar (the
plans' by default), calendar halves and explicit days; what days each covers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from app.services.reports import calendars
from tests.conftest import Actor, World
from tests.reports import report_seed as seed

URL = "/api/v1/reports/periodic"


async def _get(world: World, who: Actor, **params: Any) -> dict[str, Any]:
    response = await world.client.get(URL, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


# The plans' calendar: halves cut off at 15 May and 15 November, the year from
# 16 December, quarters two to a half.
DEFAULT_PERIODS = [
    ("2026", "annual", "default", "2025-12-16", "2026-12-15"),
    ("2026-S1", "six_monthly", "default", "2025-11-16", "2026-05-15"),
    ("2026-S2", "six_monthly", "default", "2026-05-16", "2026-11-15"),
    ("2026-Q1", "quarterly", "default", "2025-11-16", "2026-02-15"),
    ("2026-Q2", "quarterly", "default", "2026-02-16", "2026-05-15"),
    ("2026-Q3", "quarterly", "default", "2026-05-16", "2026-08-15"),
    ("2026-Q4", "quarterly", "default", "2026-08-16", "2026-11-15"),
    ("2028-Q2", "quarterly", "default", "2028-02-16", "2028-05-15"),
    ("2026-H1", "calendar_half", None, "2026-01-01", "2026-06-30"),
    ("2026-H2", "calendar_half", None, "2026-07-01", "2026-12-31"),
    ("2026-01-01..2026-03-31", "dates", None, "2026-01-01", "2026-03-31"),
    ("2026-03-15..2026-03-15", "dates", None, "2026-03-15", "2026-03-15"),
]


class TestPeriods:
    @pytest.mark.parametrize(("period", "kind", "calendar", "first", "last"), DEFAULT_PERIODS)
    async def test_the_days_of_each_period(
        self, world: World, period: str, kind: str, calendar: str | None, first: str, last: str
    ) -> None:
        report = await _get(world, await seed.officer(world), period=period)
        assert (report["period"], report["period_kind"], report["calendar"]) == (
            period,
            kind,
            calendar,
        )
        assert (report["first_day"], report["last_day"]) == (first, last)

    async def test_the_halves_meet_at_midnight_on_15_may_vietnam_time(self, world: World) -> None:
        owner = await seed.owner(world)
        # 23:59 on 15 May, then 00:00 on 16 May, in Vietnam.
        await seed.cases(world, owner, 2, received_at=datetime(2026, 5, 15, 16, 59, tzinfo=UTC))
        await seed.cases(world, owner, 3, received_at=datetime(2026, 5, 15, 17, 0, tzinfo=UTC))
        officer = await seed.officer(world)
        first = await _get(world, officer, period="2026-S1")
        second = await _get(world, officer, period="2026-S2")
        year = await _get(world, officer, period="2026")
        quarter = await _get(world, officer, period="2026-Q2")
        assert (first["persons_received"], second["persons_received"]) == (2, 3)
        assert (year["persons_received"], quarter["persons_received"]) == (5, 2)

    async def test_the_year_starts_on_16_december(self, world: World) -> None:
        owner = await seed.owner(world)
        # 15 and 16 December 2025, Vietnam time.
        await seed.cases(world, owner, 1, received_at=datetime(2025, 12, 15, 10, tzinfo=UTC))
        await seed.cases(world, owner, 4, received_at=datetime(2025, 12, 16, 10, tzinfo=UTC))
        officer = await seed.officer(world)
        assert (await _get(world, officer, period="2025"))["persons_received"] == 1
        assert (await _get(world, officer, period="2026"))["persons_received"] == 4
        # 16 November – 15 May: December belongs to the next year's first half.
        assert (await _get(world, officer, period="2026-S1"))["persons_received"] == 5

    async def test_explicit_days_are_inclusive(self, world: World) -> None:
        owner = await seed.owner(world)
        await seed.cases(world, owner, 2, received_at=datetime(2026, 3, 31, 16, 59, tzinfo=UTC))
        await seed.cases(world, owner, 3, received_at=datetime(2026, 3, 31, 17, 0, tzinfo=UTC))
        officer = await seed.officer(world)
        report = await _get(world, officer, period="2026-01-01..2026-03-31")
        assert report["persons_received"] == 2

    async def test_a_province_keeps_its_own_quarters(self, world: World) -> None:
        await world.session.execute(
            text(
                "INSERT INTO report_calendars (province_code, kind, periods) VALUES "
                "('40', 'quarterly', CAST(:periods AS jsonb))"
            ),
            {
                "periods": '[{"first": "01-01", "last": "03-31"}, '
                '{"first": "04-01", "last": "06-30"}, {"first": "07-01", "last": "09-30"}, '
                '{"first": "10-01", "last": "12-31"}]'
            },
        )
        await world.session.commit()
        own = await _get(world, await seed.officer(world, "40"), period="2026-Q1")
        assert (own["first_day"], own["last_day"], own["calendar"]) == (
            "2026-01-01",
            "2026-03-31",
            "40",
        )
        # Its halves and year stay the default's; another province keeps the default.
        half = await _get(world, await seed.officer(world, "40"), period="2026-S1")
        assert (half["first_day"], half["calendar"]) == ("2025-11-16", "default")
        other = await _get(world, await seed.officer(world, "37"), period="2026-Q1")
        assert (other["first_day"], other["calendar"]) == ("2025-11-16", "default")
        national = await _get(
            world, await seed.officer(world, None), period="2026-Q1", province_code="40"
        )
        assert national["calendar"] == "40"


class TestCalendarDefinitions:
    async def test_the_seeded_default_calendars_cover_every_day_once(self, world: World) -> None:
        rows = (
            await world.session.execute(
                text("SELECT kind, periods FROM report_calendars WHERE province_code IS NULL")
            )
        ).all()
        assert sorted(kind for kind, _ in rows) == ["annual", "quarterly", "six_monthly"]
        for kind, periods in rows:
            calendars.check(kind, periods)

    @pytest.mark.parametrize(
        ("kind", "periods"),
        [
            ("six_monthly", [{"first": "01-01", "last": "06-30"}]),  # one period only
            (
                "six_monthly",
                [{"first": "01-01", "last": "06-30"}, {"first": "07-02", "last": "12-31"}],
            ),  # a gap
            (
                "six_monthly",
                [{"first": "01-01", "last": "07-31"}, {"first": "07-01", "last": "12-31"}],
            ),  # an overlap
            ("annual", [{"first": "02-29", "last": "02-28"}]),
            ("annual", [{"first": "13-01", "last": "12-31"}]),
            ("annual", [{"first": "1-1", "last": "12-31"}]),
            ("annual", {"first": "01-01", "last": "12-31"}),
            ("quarterly", [{"first": "01-01", "last": "12-31"}] * 4),
        ],
    )
    def test_a_bad_calendar_is_refused(self, kind: str, periods: Any) -> None:
        with pytest.raises(ValueError):
            calendars.check(kind, periods)
