"""Learning-curve figures for `rlkit bench` and `rlkit sweep`: per agent or configuration, the IQM over seeds
with its 95% bootstrap band and thin per-seed lines, on a common step grid (rlkit.frontend.stats), as PNG."""

from __future__ import annotations

import io
from pathlib import Path

from rlkit.core.diskio import writing
from rlkit.frontend.stats import Curve, curve_band, resample_curves, step_grid


def plot_learning_curves(
    curves: dict[str, list[Curve]],
    path: Path,
    title: str,
    threshold: float | None = None,
    ylabel: str = "evaluation return (greedy)",
) -> Path:
    """Writes a PNG: per agent (or configuration), the IQM across seeds with its 95% stratified-bootstrap band
    and each seed's curve as a thin line, against env steps."""
    import matplotlib  # ~0.5 s to import: only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for label, runs in curves.items():
        runs = [c for c in runs if c[0]]
        if not runs:
            continue
        steps = step_grid(runs)
        values = resample_curves(runs, steps)
        mid, low, high = curve_band(values)
        (line,) = ax.plot(steps, mid, label=f"{label} (IQM, {len(runs)} seeds)", linewidth=1.8)
        ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        for row in values:
            ax.plot(steps, row, color=line.get_color(), linewidth=0.6, alpha=0.35)
    if threshold is not None:
        ax.axhline(threshold, color="gray", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    ax.set_xlabel("env steps")
    ax.set_ylabel(ylabel)
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
