"""The summary cannot be undone by differencing two date ranges: ranges are whole
months, and a month's suppression carries into every range that contains it, so a
range publishes only sums of figures its months' own summaries publish."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from app.services.reports import summary
from app.services.reports.summary import Measures
from tests.conftest import Actor, World
from tests.reports import report_seed as seed

URL = "/api/v1/reports/summary"


async def _get(world: World, who: Actor, first: str, last: str) -> dict[str, Any]:
    params = {"group_by": "sex", "from": first, "to": last}
    response = await world.client.get(URL, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _persons(report: dict[str, Any], **group: str) -> Any:
    figures = [*report["cells"], *report["margins"], report["total"]]
    found = [f["persons"] for f in figures if f["group"] == group]
    return found[0] if found else 0


def _published(*values: Any) -> bool:
    return all(isinstance(v, int) for v in values)


class TestNoDifferencing:
    async def test_two_ranges_a_day_apart_reveal_no_suppressed_cell(self, world: World) -> None:
        owner = await seed.owner(world)
        await seed.cases(world, owner, 30, victim_sex="female")
        await seed.cases(world, owner, 20, victim_sex="male")
        # One person on the last day of March (noon in Vietnam).
        await seed.cases(
            world, owner, 1, victim_sex="other", received_at=datetime(2026, 3, 31, 5, tzinfo=UTC)
        )
        analyst = await seed.analyst(world)
        longer = await _get(world, analyst, "2026-03-01", "2026-03-31")
        shorter = await _get(world, analyst, "2026-03-01", "2026-03-30")
        assert _persons(longer, sex="other") == "<11"
        # The attack: the totals of the two ranges differ by the suppressed person.
        revealed = (
            longer["total"]["persons"] - shorter["total"]["persons"]
            if _published(longer["total"]["persons"], shorter["total"]["persons"])
            else None
        )
        assert revealed != 1
        # Both ranges are March, whole.
        assert (shorter["from_date"], shorter["to_date"]) == ("2026-03-01", "2026-03-31")
        assert shorter["cells"] == longer["cells"] and shorter["total"] == longer["total"]

    async def test_two_ranges_a_month_apart_reveal_no_suppressed_cell(self, world: World) -> None:
        owner = await seed.owner(world)
        february = datetime(2026, 2, 10, 3, tzinfo=UTC)
        await seed.cases(world, owner, 30, victim_sex="female", received_at=february)
        await seed.cases(world, owner, 20, victim_sex="male", received_at=february)
        await seed.cases(world, owner, 1, victim_sex="other", received_at=february)
        await seed.cases(world, owner, 30, victim_sex="male")  # March
        analyst = await seed.analyst(world)
        feb = await _get(world, analyst, "2026-02-01", "2026-02-28")
        mar = await _get(world, analyst, "2026-03-01", "2026-03-31")
        both = await _get(world, analyst, "2026-02-01", "2026-03-31")
        # February hides the one person and, as its complement, the 20 men.
        assert _persons(feb, sex="other") == _persons(feb, sex="male") == "<11"
        # The attack: February's men are the two months' less March's; the other
        # person is then February's total less its women and men.
        figures = (
            _persons(both, sex="male"),
            _persons(mar, sex="male"),
            _persons(feb),
            _persons(feb, sex="female"),
        )
        if _published(*figures):
            men = figures[0] - figures[1]
            assert figures[2] - figures[3] - men != 1
        # February's men stay hidden in every range containing February.
        assert _persons(both, sex="male") == "<11"
        assert _persons(mar, sex="male") == 30 and _persons(both, sex="female") == 30


def _month(rng: random.Random, dims: list[str]) -> dict[tuple[str | None, ...], Measures]:
    """A month's aggregates: random cells, their margins and the total."""
    values = (0, 0, 1, 2, 3, 5, 8, 10, 11, 12, 20, 40)
    rows, columns = ("a", "b", "c"), (("x", "y", "z") if len(dims) == 2 else (None,))
    found: dict[tuple[str | None, ...], Measures] = {}

    def add(key: tuple[str | None, ...], n: int) -> None:
        old = found.get(key, (0, 0, 0, 0))
        found[key] = (old[0] + n, old[1] + n, 0, 0)

    for row in rows:
        for column in columns:
            n = rng.choice(values)
            if not n:
                continue
            if len(dims) == 2:
                add((row, column), n)
                add((row, None), n)
                add((None, column), n)
                add((None, None), n)
            else:
                add((row,), n)
                add((None,), n)
    found.setdefault((None,) * len(dims), (0, 0, 0, 0))
    return found


def _figures(published: tuple[list[Any], list[Any], Any]) -> dict[tuple[Any, ...], Any]:
    cells, margins, total = published
    return {tuple(sorted(f.group.items())): f for f in [*cells, *margins, total]}


def test_a_range_publishes_only_sums_of_what_its_months_publish() -> None:
    """The invariant that closes differencing, on random tables: a figure a range
    publishes is published (or empty) in each of its months' own tables."""
    rng = random.Random(18)
    for _ in range(300):
        dims = rng.choice([["sex"], ["sex", "age_band"]])
        months = {m: _month(rng, dims) for m in ("2026-01", "2026-02", "2026-03")}
        whole = _figures(summary.publish(dims, months))
        alone = {m: _figures(summary.publish(dims, {m: data})) for m, data in months.items()}
        for group, figure in whole.items():
            if figure.suppressed:
                continue
            for own in alone.values():
                assert group not in own or not own[group].suppressed, (dims, months, group)
