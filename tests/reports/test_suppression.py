"""Small-cell suppression: primary cells, their complements, and the invariant that
no suppressed figure can be recovered from a published total."""

from __future__ import annotations

import random

from app.services.reports.suppression import THRESHOLD, lines_1d, lines_2d, primary, protect


def _safe(values: dict, lines: list, hidden: set) -> bool:
    """Every line whose total is published hides none, or at least two parts adding
    up to at least the threshold."""
    for total, parts in lines:
        if total in hidden:
            continue
        hid = [p for p in parts if p in hidden]
        if hid and (len(hid) < 2 or sum(values[p] for p in hid) < THRESHOLD):
            return False
    return True


def _table(rng: random.Random, rows: int, columns: int) -> tuple[dict, list]:
    values: dict = {}
    for r in range(rows):
        for c in range(columns):
            n = rng.choice((0, 1, 2, 3, 5, 8, 10, 11, 12, 20, 40, 100))
            if n:
                values[("cell", r, c)] = n
    row_keys = {r: ("row", r) for r in range(rows)}
    col_keys = {c: ("col", c) for c in range(columns)}
    for r, key in row_keys.items():
        values[key] = sum(v for k, v in values.items() if k[0] == "cell" and k[1] == r)
    for c, key in col_keys.items():
        values[key] = sum(v for k, v in values.items() if k[0] == "cell" and k[2] == c)
    values[("total",)] = sum(v for k, v in values.items() if k[0] == "cell")
    cells = [k for k in values if k[0] == "cell"]
    row_keys = {r: k for r, k in row_keys.items() if values[k]}
    col_keys = {c: k for c, k in col_keys.items() if values[k]}
    return values, lines_2d(cells, row_keys, col_keys, ("total",))


class TestSuppression:
    def test_cells_of_one_to_ten_are_primary(self) -> None:
        values = {"a": 0, "b": 1, "c": 10, "d": 11, "e": 500}
        assert primary(values) == {"b", "c"}

    def test_a_lone_small_cell_takes_the_next_smallest_with_it(self) -> None:
        values = {"a": 5, "b": 20, "c": 30, "d": 25, "total": 80}
        hidden = protect(values, lines_1d(["a", "b", "c", "d"], "total"))
        # a alone could be had as 80 - 20 - 30 - 25; with b hidden only a + b is known.
        assert hidden == {"a", "b"}

    def test_two_small_cells_under_the_threshold_take_a_third(self) -> None:
        values = {"a": 2, "b": 3, "c": 40, "d": 50, "total": 95}
        hidden = protect(values, lines_1d(["a", "b", "c", "d"], "total"))
        # a + b = 5 would bound each below 5; a third cell lifts the sum past 11.
        assert hidden == {"a", "b", "c"}

    def test_two_small_cells_adding_to_eleven_are_enough(self) -> None:
        values = {"a": 5, "b": 6, "c": 40, "total": 51}
        assert protect(values, lines_1d(["a", "b", "c"], "total")) == {"a", "b"}

    def test_a_line_out_of_cells_hides_its_total(self) -> None:
        # Multi-valued dimension: one cell of 5 under a total of 15.
        values = {"a": 5, "total": 15}
        assert protect(values, lines_1d(["a"], "total")) == {"a", "total"}

    def test_a_total_under_eleven_is_hidden(self) -> None:
        values = {"a": 3, "b": 4, "total": 7}
        assert protect(values, lines_1d(["a", "b"], "total")) == {"a", "b", "total"}

    def test_complements_in_two_dimensions_protect_rows_and_columns(self) -> None:
        #        c0   c1   c2 | row
        # r0      3   30   40 |  73
        # r1     20   25   35 |  80
        # col    23   55   75 | 153
        values = {
            ("cell", 0, 0): 3, ("cell", 0, 1): 30, ("cell", 0, 2): 40,
            ("cell", 1, 0): 20, ("cell", 1, 1): 25, ("cell", 1, 2): 35,
            ("row", 0): 73, ("row", 1): 80,
            ("col", 0): 23, ("col", 1): 55, ("col", 2): 75,
            ("total",): 153,
        }  # fmt: skip
        cells = [k for k in values if k[0] == "cell"]
        lines = lines_2d(cells, {0: ("row", 0), 1: ("row", 1)},
                         {c: ("col", c) for c in range(3)}, ("total",))  # fmt: skip
        hidden = protect(values, lines)
        assert ("cell", 0, 0) in hidden
        # Its row and its column each hide a second cell, and so on around a square.
        assert {("cell", 0, 1), ("cell", 1, 0), ("cell", 1, 1)} <= hidden
        assert _safe(values, lines, hidden)

    def test_random_tables_are_always_safe(self) -> None:
        rng = random.Random(20261123)
        for _ in range(300):
            values, lines = _table(rng, rng.randint(1, 6), rng.randint(1, 6))
            hidden = protect(values, lines)
            assert primary(values) <= hidden
            assert _safe(values, lines, hidden)

    def test_the_same_data_gives_the_same_table(self) -> None:
        values = {"a": 5, "b": 20, "c": 20, "total": 45}
        lines = lines_1d(["a", "b", "c"], "total")
        assert protect(values, lines) == protect(dict(reversed(values.items())), lines)
