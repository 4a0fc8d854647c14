"""Aggregate statistics over seeds, as Agarwal et al. (2021) recommend; one implementation for bench, sweep.

"Deep Reinforcement Learning at the Edge of the Statistical Precipice" (NeurIPS 2021) argues that a handful of
seeds calls for robust, interval estimates rather than a mean alone. Its definitions, used here:

- **IQM**, the interquartile mean: the mean of the middle 50% of the runs' scores, i.e. the 25% trimmed mean
  (scipy.stats.trim_mean(x, 0.25): int(0.25 n) scores cut at each end; with n < 4 nothing is cut).
- **Stratified bootstrap CI**: resample runs with replacement *within each task* (a sweep or bench compares
  configurations on one task, so it is the plain bootstrap over seeds), recompute the statistic, and take the
  2.5% and 97.5% percentiles of the replicates (the percentile interval the paper's rliable library reports).
- **Probability of improvement** P(X > Y): over all pairs of a run of X and a run of Y on the same task, the
  share where X scores higher, ties counting one half (the Mann-Whitney U statistic divided by n m), averaged
  over tasks.

Learning curves of runs evaluated at different steps are put on a common step grid by linear interpolation
(never extrapolated: a run contributes only between its first and last evaluation), then aggregated per grid
point. rliable itself is archived and pins an old `arch`, so these few lines of numpy replace it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Curve = tuple[list[int], list[float]]  # (env steps, evaluation values) of one run
BOOTSTRAP_REPS = 2000
CONFIDENCE = 0.95


def iqm(scores: np.ndarray | list[float]) -> float:
    """Interquartile mean of all scores (flattened): the 25% trimmed mean, as scipy.stats.trim_mean."""
    x = np.sort(np.asarray(scores, dtype=float).ravel())
    if x.size == 0:
        return math.nan
    cut = int(0.25 * x.size)
    return float(x[cut : x.size - cut].mean())


def _iqm_rows(samples: np.ndarray) -> np.ndarray:
    """IQM of each row of a (reps, n) array."""
    x = np.sort(samples, axis=1)
    cut = int(0.25 * x.shape[1])
    return x[:, cut : x.shape[1] - cut].mean(axis=1)


def stratified_bootstrap_ci(
    scores: np.ndarray | list[float],
    reps: int = BOOTSTRAP_REPS,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile CI of the IQM of `scores` ((runs,) or (runs, tasks)): runs resampled within each task."""
    x = np.asarray(scores, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    runs, tasks = x.shape
    if runs == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, runs, size=(reps, runs, tasks))  # each task's runs resampled on their own
    samples = np.take_along_axis(np.broadcast_to(x, (reps, runs, tasks)), idx, axis=1).reshape(reps, -1)
    stats = _iqm_rows(samples)
    tail = (1 - confidence) / 2
    low, high = np.quantile(stats, [tail, 1 - tail])
    return float(low), float(high)


def probability_of_improvement(x: np.ndarray | list[float], y: np.ndarray | list[float]) -> float:
    """P(X > Y): share of (run of x, run of y) pairs where x is higher, ties one half, averaged over tasks."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    a, b = (a[:, None] if a.ndim == 1 else a), (b[:, None] if b.ndim == 1 else b)
    if a.shape[0] == 0 or b.shape[0] == 0:
        return math.nan
    per_task = [
        np.mean((a[:, t, None] > b[None, :, t]) + 0.5 * (a[:, t, None] == b[None, :, t]))
        for t in range(a.shape[1])
    ]
    return float(np.mean(per_task))


def describe(scores: list[float], higher_is_better: bool = True, seed: int = 0) -> dict[str, Any]:
    """n, mean, std (population, as numpy's default), median, min, max, IQM and its 95% bootstrap CI."""
    x = np.asarray([s for s in scores if s is not None and math.isfinite(s)], dtype=float)
    if x.size == 0:
        return {"n": 0, "mean": None, "std": None, "median": None, "min": None, "max": None, "iqm": None,
                "iqm_ci": [None, None]}  # fmt: skip
    low, high = stratified_bootstrap_ci(x, seed=seed)
    return {
        "n": int(x.size),
        "mean": float(x.mean()),
        "std": float(x.std()),
        "median": float(np.median(x)),
        "min": float(x.min()),
        "max": float(x.max()),
        "iqm": iqm(x),
        "iqm_ci": [low, high],
    }


def step_grid(curves: list[Curve], points: int = 50) -> np.ndarray:
    """A common grid of `points` env steps from the earliest to the latest evaluation of any run."""
    firsts = [xs[0] for xs, _ in curves if len(xs)]
    lasts = [xs[-1] for xs, _ in curves if len(xs)]
    if not firsts:
        return np.zeros(0)
    return np.unique(np.linspace(min(firsts), max(lasts), points).round().astype(np.int64))


def resample_curves(curves: list[Curve], grid: np.ndarray) -> np.ndarray:
    """(runs, len(grid)) values: each run linearly interpolated onto `grid`, NaN outside its evaluations."""
    out = np.full((len(curves), len(grid)), np.nan)
    for row, (xs, ys) in enumerate(curves):
        if not len(xs):
            continue
        x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        inside = (grid >= x[0]) & (grid <= x[-1])
        out[row, inside] = np.interp(grid[inside], x, y)
    return out


def curve_band(
    values: np.ndarray, reps: int = 500, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(IQM, CI low, CI high) at each grid column of a resample_curves matrix, over the runs present there."""
    n_cols = values.shape[1]
    mid, low, high = (np.full(n_cols, np.nan) for _ in range(3))
    for col in range(n_cols):
        present = values[:, col][~np.isnan(values[:, col])]
        if present.size:
            mid[col] = iqm(present)
            low[col], high[col] = stratified_bootstrap_ci(present, reps=reps, seed=seed)
    return mid, low, high
