"""Aggregate statistics (rlkit.frontend.stats) against hand-computed values and scipy, and CI coverage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import trim_mean

from rlkit.frontend.stats import (
    curve_band,
    describe,
    iqm,
    probability_of_improvement,
    resample_curves,
    step_grid,
    stratified_bootstrap_ci,
)


def test_iqm_by_hand_and_equal_to_scipys_25_percent_trimmed_mean() -> None:
    assert iqm([1, 2, 3, 4, 5, 6, 7, 8]) == 4.5  # 2 cut at each end: mean of 3, 4, 5, 6
    assert iqm([1, 2, 3, 100]) == 2.5  # the outlier is cut
    assert iqm([7.0]) == 7.0 and iqm([1.0, 3.0, 8.0]) == 4.0  # n < 4: nothing cut
    rng = np.random.default_rng(0)
    for n in range(1, 30):
        x = rng.standard_cauchy(n)
        assert iqm(x) == pytest.approx(trim_mean(x, 0.25), rel=1e-12, abs=1e-12)


def test_bootstrap_ci_covers_the_true_iqm_at_about_the_stated_rate() -> None:
    rng = np.random.default_rng(1)
    trials, hits = 300, 0
    for k in range(trials):  # N(3, 2): the population IQM is the mean, 3, by symmetry
        low, high = stratified_bootstrap_ci(rng.normal(3.0, 2.0, size=20), reps=400, seed=k)
        hits += low <= 3.0 <= high
    assert 0.88 <= hits / trials <= 0.99, hits / trials  # percentile bootstrap: slightly under 95% at n=20


def test_bootstrap_is_stratified_by_task() -> None:
    scores = np.array([[0.0, 10.0], [0.0, 10.0], [0.0, 10.0]])  # 3 runs x 2 tasks
    assert stratified_bootstrap_ci(scores) == (5.0, 5.0)  # every replicate keeps 3 runs of each task
    low, high = stratified_bootstrap_ci(scores.ravel())  # pooled, the replicates vary
    assert low < 5.0 < high


def test_probability_of_improvement_by_hand() -> None:
    # pairs (x, y): (1,0) win, (1,2) loss, (2,0) win, (2,2) tie -> (1 + 0 + 1 + 0.5) / 4
    assert probability_of_improvement([1, 2], [0, 2]) == 0.625
    assert probability_of_improvement([0, 2], [1, 2]) == 0.375  # P(X > Y) + P(Y > X) = 1
    assert probability_of_improvement([5, 6], [1, 2]) == 1.0
    two_tasks = probability_of_improvement(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert two_tasks == 0.5  # task 0: 1, task 1: 0, averaged


def test_describe_by_hand() -> None:
    d = describe([1.0, 2.0, 3.0, 10.0, float("nan")])  # NaN (a failed run) is left out
    assert d["n"] == 4 and d["mean"] == 4.0 and d["median"] == 2.5 and d["iqm"] == 2.5
    assert d["std"] == pytest.approx(np.std([1, 2, 3, 10])) and d["min"] == 1.0 and d["max"] == 10.0
    assert d["iqm_ci"][0] <= 2.5 <= d["iqm_ci"][1]
    assert describe([])["n"] == 0 and describe([])["iqm"] is None


def test_learning_curves_on_a_common_step_grid() -> None:
    curves = [([0, 100, 200], [0.0, 10.0, 20.0]), ([50, 150], [5.0, 25.0])]
    grid = step_grid(curves, points=5)
    assert grid.tolist() == [0, 50, 100, 150, 200]
    values = resample_curves(curves, grid)
    assert values[0].tolist() == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert np.isnan(values[1, 0]) and values[1, 1:4].tolist() == [5.0, 15.0, 25.0] and np.isnan(values[1, 4])
    mid, low, high = curve_band(values)
    assert mid.tolist() == [0.0, 5.0, 12.5, 20.0, 20.0]  # one run at the ends, both in the middle
    assert low[2] == 10.0 and high[2] == 15.0 and low[0] == high[0] == 0.0
