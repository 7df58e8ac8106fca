"""Small-cell suppression of the summary report: primary, then complementary.

Rule (issue 7): a figure counting 1 to 10 persons is published as `"<11"`, and no
such figure can be recovered by subtracting published figures from a published total.

Why complementary suppression rather than rounding: the official figures that stay
published stay exact (a province reporting "100% of received persons verified"
must be able to show the same number twice), and rounding to a base of 5 or 10
would distort exactly those small provinces whose totals are compared with targets.
Complementary suppression hides a few more cells instead.

The method works on *lines*: a published total and the figures it is the total of
(a row of the table and its row total, a column and its column total, the row
totals and the grand total, the column totals and the grand total). For every line
whose total is published and which holds a suppressed figure, the suppressed figures
of the line must be at least two and add up to at least the threshold (11): else
the next smallest published figure of the line is suppressed too, until they do.
If a line runs out of figures, its total is suppressed instead, which moves the
problem one line up. Suppressing a figure can break another line it belongs to, so
the lines are swept until nothing changes (it terminates: each pass suppresses
more, and the figures are finite). Ties go to the first key in sorted order, so the
same data always gives the same table.

Multi-valued dimensions (exploitation type, support type) make a line's total a
distinct-person count that is not the sum of its cells; subtraction then gives no
exact value at all, but the same rule is applied anyway (it only errs on the safe
side).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence, Set
from typing import Any

THRESHOLD = 11

# Any hashable key: a cell, a margin or the total, as the caller names them.
Key = Any
Line = tuple[Key, Sequence[Key]]


def primary(values: Mapping[Key, int], threshold: int = THRESHOLD) -> set[Key]:
    """The figures counting 1 to `threshold - 1` persons (an empty cell is not a figure)."""
    return {key for key, value in values.items() if 0 < value < threshold}


def protect(
    values: Mapping[Key, int],
    lines: Sequence[Line],
    threshold: int = THRESHOLD,
    *,
    initial: Set[Key] = frozenset(),
) -> set[Key]:
    """The keys of `values` to publish as `"<threshold"`: the primary suppressions,
    those `initial` names (of `values`), and the complementary ones that keep them
    from being derived along `lines`."""
    hidden = primary(values, threshold) | (set(initial) & set(values))
    changed = True
    while changed:
        changed = False
        for total, parts in lines:
            if total in hidden:
                continue
            hidden_parts = [part for part in parts if part in hidden]
            if not hidden_parts:
                continue
            while not _safe(hidden_parts, values, threshold):
                shown = sorted(
                    (part for part in parts if part not in hidden),
                    key=lambda part: (values[part], repr(part)),
                )
                if not shown:
                    hidden.add(total)
                    changed = True
                    break
                hidden.add(shown[0])
                hidden_parts.append(shown[0])
                changed = True
    return hidden


def _safe(hidden_parts: list[Key], values: Mapping[Key, int], threshold: int) -> bool:
    return len(hidden_parts) >= 2 and sum(values[part] for part in hidden_parts) >= threshold


def lines_1d(cells: Sequence[Key], total: Key) -> list[Line]:
    """One line: the grand total over every cell."""
    return [(total, list(cells))]


def lines_2d(
    cells: Sequence[tuple[Hashable, ...]],
    rows: Mapping[Any, Key],
    columns: Mapping[Any, Key],
    total: Key,
) -> list[Line]:
    """Each row with its row total, each column with its column total, and the row
    totals and the column totals each with the grand total. `cells` are tuples ending
    in (row value, column value); `rows` / `columns` map a value to the key of its margin."""
    lines: list[Line] = []
    for value, key in rows.items():
        lines.append((key, [cell for cell in cells if cell[-2] == value]))
    for value, key in columns.items():
        lines.append((key, [cell for cell in cells if cell[-1] == value]))
    lines.append((total, list(rows.values())))
    lines.append((total, list(columns.values())))
    return lines
