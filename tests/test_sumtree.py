"""The sum tree behind prioritised replay: sums, minima, descent, against hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlkit.core.replay.sumtree import SumTree


def tree_of(priorities: list[float]) -> SumTree:
    tree = SumTree(len(priorities))
    tree.update(np.arange(len(priorities)), np.array(priorities))
    return tree


def test_total_min_and_find_by_hand() -> None:
    tree = tree_of([1.0, 2.0, 3.0, 4.0])  # cumulative bounds 0 | 1 | 3 | 6 | 10
    assert tree.total == 10.0 and tree.min == 1.0
    masses = np.array([0.0, 0.99, 1.0, 2.5, 3.0, 5.9, 6.0, 9.99])
    assert tree.find(masses).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_zero_priorities_are_never_found_and_do_not_count_as_min() -> None:
    tree = tree_of([0.0, 5.0, 0.0, 0.0, 3.0])  # size 5: 8 leaves, three of them padding
    assert tree.total == 8.0 and tree.min == 3.0
    found = tree.find(np.array([0.0, 4.999, 5.0, 7.999, np.nextafter(8.0, 0.0)]))
    assert found.tolist() == [1, 1, 4, 4, 4]


def test_updates_small_and_large_agree_and_last_repeat_wins() -> None:
    few, many = SumTree(10), SumTree(10)
    for i in range(10):
        few.update(np.array([i]), np.array([float(i)]))
    many.update(np.arange(10), np.arange(10.0))
    np.testing.assert_array_equal(few.sums, many.sums)
    np.testing.assert_array_equal(few.mins, many.mins)
    many.update(np.array([3, 3, 3, 3, 3, 3]), np.array([1.0, 2.0, 3.0, 4.0, 5.0, 7.0]))
    assert many.get(np.array([3]))[0] == 7.0 and many.total == 45.0 - 3.0 + 7.0
    few.update(np.array([2, 2]), np.array([9.0, 0.0]))
    assert few.get(np.array([2]))[0] == 0.0 and few.total == 43.0 and few.min == 1.0


def test_set_all_matches_incremental_updates() -> None:
    values = np.array([0.5, 0.0, 2.0, 1.5, 0.25, 3.0, 0.0])
    bulk = SumTree(len(values))
    bulk.set_all(values)
    np.testing.assert_allclose(bulk.sums, tree_of(values.tolist()).sums)
    np.testing.assert_array_equal(bulk.mins, tree_of(values.tolist()).mins)
    np.testing.assert_array_equal(bulk.priorities(), values)


def test_sampling_frequencies_follow_priorities() -> None:
    tree = tree_of([1.0, 0.0, 3.0, 4.0])
    rng = np.random.default_rng(0)
    draws = np.concatenate([tree.sample(64, rng) for _ in range(500)])
    freq = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(freq, [1 / 8, 0.0, 3 / 8, 4 / 8], atol=0.01)


def test_sampling_an_empty_tree_fails_clearly() -> None:
    with pytest.raises(ValueError, match="all zero"):
        SumTree(4).sample(2, np.random.default_rng(0))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 0.1, 1.0, 2.5, 7.0, 1e-6]), min_size=1, max_size=40),
    st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=20),
)
def test_find_agrees_with_cumulative_sums(priorities: list[float], fractions: list[float]) -> None:
    values = np.array(priorities)
    if values.sum() == 0:
        values[0] = 1.0
    tree = tree_of(values.tolist())
    masses = np.array(fractions) * tree.total
    found = tree.find(masses)
    assert (values[found] > 0).all()
    bounds = np.concatenate([[0.0], np.cumsum(values)])
    tol = 1e-9 * tree.total
    assert (bounds[found] <= masses + tol).all() and (masses < bounds[found + 1] + tol).all()
