"""Learning-curve figures for `rlkit bench`: mean line and min-max band across seeds, per agent (PNG)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from rlkit.core.diskio import writing

Curve = tuple[list[int], list[float]]  # (env steps, eval return means) of one run


def align_curves(curves: list[Curve]) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values): the union of the runs' eval steps, and a (runs, steps) matrix with NaN for gaps."""
    steps = np.array(sorted({s for xs, _ in curves for s in xs}), dtype=np.int64)
    index = {int(s): i for i, s in enumerate(steps)}
    values = np.full((len(curves), len(steps)), np.nan)
    for row, (xs, ys) in enumerate(curves):
        for x, y in zip(xs, ys):
            values[row, index[int(x)]] = y
    return steps, values


def band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, min, max) over runs at each step, ignoring runs without a value there."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        return np.nanmean(values, axis=0), np.nanmin(values, axis=0), np.nanmax(values, axis=0)


def plot_learning_curves(
    curves: dict[str, list[Curve]], path: Path, title: str, threshold: float | None = None
) -> Path:
    """Writes a PNG: per agent, the mean eval return across seeds and its min-max band, against env steps."""
    import matplotlib  # ~0.5 s to import: only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for label, runs in curves.items():
        runs = [c for c in runs if c[0]]
        if not runs:
            continue
        steps, values = align_curves(runs)
        mean, low, high = band(values)
        (line,) = ax.plot(steps, mean, label=f"{label} ({len(runs)} seeds)", linewidth=1.8)
        ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    if threshold is not None:
        ax.axhline(threshold, color="gray", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    ax.set_xlabel("env steps")
    ax.set_ylabel("evaluation return (greedy)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()  # rendered in memory: matplotlib can swallow a failed write to a file
    try:
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue())
    return path
