"""The generic k-anonymity algorithm (app/services/reports/kanon.py) on synthetic tables:
every released class reaches k, nothing is lost or invented, the chosen generalisation
is the least one that keeps suppression within its budget."""

from __future__ import annotations

import itertools
from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.reports.kanon import Key, Ladder, Release, anonymise


def _decade(age: Hashable) -> Hashable:
    return None if age is None else int(age) // 10 * 10  # type: ignore[call-overload]


def _blank(_: Hashable) -> Hashable:
    return None


def _vowel(letter: Hashable) -> Hashable:
    return letter in "aeiou"  # type: ignore[operator]


LADDERS = (
    Ladder("age", (_decade, _blank)),
    Ladder("letter", (_vowel, _blank)),
    Ladder("flag", (_blank,)),
)
TOP = tuple(ladder.height for ladder in LADDERS)

groups_strategy = st.dictionaries(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 79)),
        st.sampled_from("abcdefghij"),
        st.booleans(),
    ),
    st.integers(1, 40),
    max_size=60,
)


def _generalised(groups: dict[tuple[Hashable, ...], int], node: tuple[int, ...]) -> dict:
    classes: dict[tuple[Hashable, ...], int] = {}
    for key, count in groups.items():
        g = tuple(ladder.at(level, v) for ladder, level, v in zip(LADDERS, node, key, strict=True))
        classes[g] = classes.get(g, 0) + count
    return classes


def _small(groups: dict[tuple[Hashable, ...], int], node: tuple[int, ...], k: int) -> int:
    return sum(size for size in _generalised(groups, node).values() if size < k)


@settings(max_examples=150, deadline=None)
@given(groups=groups_strategy, k=st.integers(2, 15), budget=st.sampled_from([0.0, 0.05, 0.2]))
def test_every_released_class_reaches_k_and_counts_add_up(
    groups: dict[tuple[Hashable, ...], int], k: int, budget: float
) -> None:
    release = anonymise(groups, LADDERS, k=k, max_suppressed=budget)
    total = sum(groups.values())
    assert all(size >= k for size in release.classes.values())
    assert release.released + release.suppressed == total
    # The released classes are exactly the generalisation of the input at the chosen
    # levels, minus the small classes: no record is invented or moved between classes.
    expected = _generalised(groups, release.levels)
    assert release.classes == {key: n for key, n in expected.items() if n >= k}


@settings(max_examples=150, deadline=None)
@given(groups=groups_strategy, k=st.integers(2, 15), budget=st.sampled_from([0.0, 0.05, 0.2]))
def test_the_chosen_generalisation_is_the_least_within_budget(
    groups: dict[tuple[Hashable, ...], int], k: int, budget: float
) -> None:
    release = anonymise(groups, LADDERS, k=k, max_suppressed=budget)
    total = sum(groups.values())
    passing = [
        node
        for node in itertools.product(*(range(h + 1) for h in TOP))
        if _small(groups, node, k) <= budget * total
    ]
    if not passing:  # fewer than k records in all: everything generalised, all dropped
        assert release.levels == TOP
        assert release.classes == {}
        return
    lowest = min(sum(node) for node in passing)
    assert sum(release.levels) == lowest
    fewest = min(_small(groups, n, k) for n in passing if sum(n) == lowest)
    assert release.suppressed == fewest


def test_a_table_that_is_already_k_anonymous_is_released_as_it_is() -> None:
    groups: dict[Key, int] = {(30, "a", True): 11, (45, "b", False): 12}
    release = anonymise(groups, LADDERS, k=11)
    assert release == Release(levels=(0, 0, 0), classes=groups, suppressed=0)


def test_rare_values_are_generalised_before_anything_is_dropped() -> None:
    # 30 people aged 30-39 with distinct ages: no exact age reaches k, the decade does.
    groups: dict[Key, int] = {(30 + i % 10, "a", True): 3 for i in range(10)}
    release = anonymise(groups, LADDERS, k=11)
    assert release.levels == (1, 0, 0)
    assert release.classes == {(30, "a", True): 30}
    assert release.suppressed == 0


def test_outliers_beyond_the_budget_are_suppressed() -> None:
    # One person among 100 is unique even fully generalised in age; dropping one
    # record (1%) is within 5%, so age stays exact and the outlier goes.
    groups: dict[Key, int] = {(25, "a", True): 100, (77, "z", False): 1}
    release = anonymise(groups, LADDERS, k=11, max_suppressed=0.05)
    assert release.levels == (0, 0, 0)
    assert release.classes == {(25, "a", True): 100}
    assert release.suppressed == 1


def test_fewer_than_k_records_release_nothing() -> None:
    release = anonymise({(25, "a", True): 4, (26, "b", True): 6}, LADDERS, k=11)
    assert release.classes == {}
    assert release.suppressed == 10


@pytest.mark.parametrize(
    ("k", "budget", "ladders"), [(0, 0.05, LADDERS), (11, 1.5, LADDERS), (11, 0.05, ())]
)
def test_nonsense_parameters_are_refused(
    k: int, budget: float, ladders: tuple[Ladder, ...]
) -> None:
    with pytest.raises(ValueError):
        anonymise({}, ladders, k=k, max_suppressed=budget)


def test_the_empty_table_releases_nothing() -> None:
    release = anonymise({}, LADDERS, k=11)
    assert (release.classes, release.suppressed) == ({}, 0)


def test_a_ladder_that_is_not_a_hierarchy_is_refused() -> None:
    # Level 2 must follow from level 1: ages 30 and 31 share decade 30, then part.
    crossing = Ladder("age", (_decade, lambda age: age))
    with pytest.raises(ValueError, match="not a hierarchy"):
        anonymise({(30,): 5, (31,): 6}, (crossing,), k=2)
