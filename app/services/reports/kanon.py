"""k-anonymity by full-domain generalisation, then suppression (Samarati, Sweeney).

Rule: every released record shares its combination of quasi-identifier values with at
least `k - 1` other released records. Each quasi-identifier has a ladder of
generalisations (level 0 is the value itself, the last level says nothing). One level
per quasi-identifier is chosen for the whole table (full-domain: every record of a
column is generalised alike, so the released values never mix levels), the least
generalisation (lowest total level) that leaves at most `max_suppressed` of the
records in classes smaller than `k`; those records are then dropped. Among the nodes
of the lowest passing height the one that drops fewest records wins; ties go to the
first in a fixed order, so the same data always gives the same release.

The input is already aggregated (distinct base combinations with their counts), which
is what lets a million cases be anonymised in milliseconds: the work grows with the
number of distinct combinations, never with the number of records.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

Key = tuple[Hashable, ...]
Generalise = Callable[[Hashable], Hashable]


@dataclass(frozen=True)
class Ladder:
    """The generalisations of one quasi-identifier, from level 1 upwards (level 0, the
    value itself, is implied). The last one should map every value to one value."""

    name: str
    steps: tuple[Generalise, ...]

    @property
    def height(self) -> int:
        return len(self.steps)

    def at(self, level: int, value: Hashable) -> Hashable:
        return value if level == 0 else self.steps[level - 1](value)


@dataclass(frozen=True)
class Release:
    """The anonymised table: generalised classes (each of `k` or more records) with
    their sizes, the level chosen per quasi-identifier, and what was dropped."""

    levels: tuple[int, ...]
    classes: dict[Key, int]
    suppressed: int

    @property
    def released(self) -> int:
        return sum(self.classes.values())


def anonymise(
    groups: Mapping[Key, int],
    ladders: Sequence[Ladder],
    *,
    k: int,
    max_suppressed: float = 0.05,
) -> Release:
    """Generalise then suppress `groups` (base quasi-identifier values → record count)
    so that every released class holds at least `k` records (see the module rule)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if not 0 <= max_suppressed <= 1:
        raise ValueError("max_suppressed is a fraction")
    if not ladders:
        raise ValueError("at least one quasi-identifier")
    encoding = _Encoding(groups, ladders)
    total = sum(groups.values())
    budget = max_suppressed * total
    top = tuple(ladder.height for ladder in ladders)
    # Breadth first by height; each node's classes are folded from a node one level
    # lower (already computed), which costs its classes, not the whole input.
    current = {tuple(0 for _ in ladders): encoding.base_classes()}
    for height in range(sum(top) + 1):
        best: tuple[int, tuple[int, ...]] | None = None
        for node, classes in current.items():
            small = sum(size for size in classes.values() if size < k)
            if small <= budget and (best is None or small < best[0]):
                best = (small, node)
        if best is not None:
            return encoding.release(best[1], current[best[1]], k)
        if height == sum(top):
            break
        following: dict[tuple[int, ...], dict[int, int]] = {}
        for node in _nodes_of_height(top, height + 1):
            column, below = min(
                (
                    (i, (*node[:i], node[i] - 1, *node[i + 1 :]))
                    for i in range(len(node))
                    if node[i] > 0
                ),
                key=lambda pair: len(current[pair[1]]),
            )
            following[node] = encoding.raise_level(current[below], column, node[column] - 1)
        current = following
    # Fewer than k records in all: even one class of everything is too small.
    return encoding.release(top, current[top], k)


def _nodes_of_height(top: tuple[int, ...], height: int) -> list[tuple[int, ...]]:
    """Every choice of levels (within `top`) summing to `height`, in a fixed order."""
    return [node for node in itertools.product(*(range(h + 1) for h in top)) if sum(node) == height]


class _Encoding:
    """Classes keyed by one integer: column i's code at its level, times `radix[i]`.
    Raising one column one level rewrites one digit, so folding a node into the next
    is one arithmetic step and one dict update per class."""

    def __init__(self, groups: Mapping[Key, int], ladders: Sequence[Ladder]) -> None:
        self.groups = {key: count for key, count in groups.items() if count > 0}
        self.values: list[list[list[Hashable]]] = []  # column, level, code -> value
        self.up: list[list[list[int]]] = []  # column, level, code -> code one level up
        self.base: list[dict[Hashable, int]] = []  # column: base value -> code
        self.size: list[int] = []
        self.radix: list[int] = []
        radix = 1
        for position, ladder in enumerate(ladders):
            distinct = list(dict.fromkeys(key[position] for key in self.groups))
            codes_by_level: list[list[int]] = []
            values_by_level: list[list[Hashable]] = []
            for level in range(ladder.height + 1):
                code_of: dict[Hashable, int] = {}
                codes = [code_of.setdefault(ladder.at(level, v), len(code_of)) for v in distinct]
                codes_by_level.append(codes)
                values_by_level.append(list(code_of))
            ups: list[list[int]] = []
            for level in range(ladder.height):
                up = [-1] * len(values_by_level[level])
                for low, high in zip(codes_by_level[level], codes_by_level[level + 1], strict=True):
                    if up[low] not in (-1, high):
                        raise ValueError(f"the ladder of {ladder.name} is not a hierarchy")
                    up[low] = high
                ups.append(up)
            self.values.append(values_by_level)
            self.up.append(ups)
            self.base.append({v: code for v, code in zip(distinct, codes_by_level[0], strict=True)})
            self.size.append(max(len(distinct), 1))
            self.radix.append(radix)
            radix *= self.size[-1]

    def base_classes(self) -> dict[int, int]:
        classes: dict[int, int] = {}
        for key, count in self.groups.items():
            code = sum(self.base[i][value] * self.radix[i] for i, value in enumerate(key))
            classes[code] = classes.get(code, 0) + count
        return classes

    def raise_level(self, classes: dict[int, int], column: int, level: int) -> dict[int, int]:
        radix, size = self.radix[column], self.size[column]
        shift = [(high - low) * radix for low, high in enumerate(self.up[column][level])]
        raised: defaultdict[int, int] = defaultdict(int)
        for key, count in classes.items():
            raised[key + shift[key // radix % size]] += count
        return raised

    def decode(self, key: int, node: tuple[int, ...]) -> Key:
        return tuple(
            self.values[i][level][key // self.radix[i] % self.size[i]]
            for i, level in enumerate(node)
        )

    def release(self, node: tuple[int, ...], classes: dict[int, int], k: int) -> Release:
        kept = {self.decode(key, node): size for key, size in classes.items() if size >= k}
        suppressed = sum(size for size in classes.values() if size < k)
        return Release(levels=node, classes=kept, suppressed=suppressed)
