"""The report of `rlkit bench`: each run's result, one row per agent across seeds, table.md, results.json and
curves.png (rewritten after every run, failed runs marked and left out of the numbers)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from rlkit.core.diskio import write_text
from rlkit.frontend.plots import plot_learning_curves
from rlkit.frontend.stats import describe, probability_of_improvement


@dataclass
class RunResult:
    """What one (agent, seed) run produced."""

    label: str
    seed: int
    steps: int
    wall_time_s: float
    final_mean: float
    final_std: float
    curve: tuple[list[int], list[float]]
    run_dir: str
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # why the run failed; a failed run is left out of the table's numbers


def steps_to_threshold(curve: tuple[list[int], list[float]], threshold: float) -> int | None:
    """Env steps at the first evaluation whose mean return reaches `threshold` (None: never)."""
    for step, value in zip(*curve):
        if value >= threshold:
            return int(step)
    return None


def eval_curve(metrics_path: Path) -> tuple[list[int], list[float]]:
    """(steps, eval/return_mean) of a run's metrics.jsonl; of two evaluations at one step, the later one."""
    by_step: dict[int, float] = {}
    for line in metrics_path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "eval/return_mean" in row:
            by_step[int(row["step"])] = float(row["eval/return_mean"])
    return list(by_step), list(by_step.values())


def aggregate(results: list[RunResult], labels: list[str], threshold: float | None) -> list[dict[str, Any]]:
    """One row per agent: speed, wall time, final return across seeds, steps to threshold (failed runs are
    counted in `failed` and left out of the numbers)."""
    rows = []
    for label in labels:
        every = [r for r in results if r.label == label]
        mine = [r for r in every if r.error is None]
        steps, wall = sum(r.steps for r in mine), sum(r.wall_time_s for r in mine)
        finals = np.array([r.final_mean for r in mine]) if mine else np.array([float("nan")])
        reached = [steps_to_threshold(r.curve, threshold) for r in mine] if threshold is not None else []
        hits = [s for s in reached if s is not None]
        rows.append(
            {
                "agent": label,
                "seeds": len(mine),
                "failed": len(every) - len(mine),
                "steps_per_s": steps / max(wall, 1e-9),
                "wall_time_s": wall / max(len(mine), 1),
                "final_return_mean": float(finals.mean()),
                "final_return_std": float(finals.std()),
                **_robust(finals if mine else np.array([])),
                "threshold_reached": len(hits),
                "steps_to_threshold": float(np.mean(hits)) if hits else None,
            }
        )
    base = (
        rows[0]["steps_per_s"] if rows and rows[0]["seeds"] else None
    )  # None: the first agent's runs failed
    first = [r.final_mean for r in results if r.label == labels[0] and r.error is None] if labels else []
    for row in rows:
        row["speed_vs_first"] = row["steps_per_s"] / base if base and row["seeds"] else None
        mine = [r.final_mean for r in results if r.label == row["agent"] and r.error is None]
        row["p_better_than_first"] = probability_of_improvement(mine, first) if mine and first else None
    return rows


def _robust(finals: np.ndarray) -> dict[str, Any]:
    """Median, IQM and its 95% stratified-bootstrap CI of the final returns (rlkit.frontend.stats)."""
    d = describe(finals.tolist())
    return {
        "final_return_median": d["median"],
        "final_return_iqm": d["iqm"],
        "final_return_iqm_ci": d["iqm_ci"],
    }


def table_markdown(rows: list[dict[str, Any]], threshold: float | None) -> str:
    """The results table in Markdown."""
    thr = f"steps to {threshold:g}" if threshold is not None else "steps to threshold"
    first = rows[0]["agent"]
    head = f"| agent | seeds | steps/s | speed vs {first} | wall time / run (s) | final eval return "
    head += f"| IQM [95% CI] | P(> {first}) | {thr} |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        seeds = f"{r['seeds']} ({r['failed']} failed)" if r.get("failed") else f"{r['seeds']}"
        if threshold is None:
            to = "n/a"
        elif r["steps_to_threshold"] is None:
            to = f"never (0/{r['seeds']})"
        else:
            to = f"{r['steps_to_threshold']:,.0f} ({r['threshold_reached']}/{r['seeds']})"
        lines.append(
            f"| {r['agent']} | {seeds} | {r['steps_per_s']:,.0f} | {_ratio(r['speed_vs_first'])} "
            f"| {r['wall_time_s']:.1f} | {r['final_return_mean']:.1f} ± {r['final_return_std']:.1f} "
            f"| {_iqm_cell(r)} | {_share(r.get('p_better_than_first'))} | {to} |"
        )
    return "\n".join(lines)


def write_report(
    out: Path, argv: list[str], plan: dict[str, Any], results: list[RunResult], t0: float
) -> str:
    """Writes table.md, results.json and curves.png for the runs so far; returns the table."""
    labels, threshold, common = [a.label for a in plan["agents"]], plan["threshold"], plan["common"]
    rows = aggregate(results, labels, threshold)
    table = table_markdown(rows, threshold)
    env_name = next((a.partition("=")[2] for a in common if a.startswith("env=")), "maze")
    title = f"{' vs '.join(labels)} on {env_name} ({len(plan['seeds'])} seeds)"
    curves = {lb: [r.curve for r in results if r.label == lb and r.error is None] for lb in labels}
    plot_learning_curves(curves, out / "curves.png", title, threshold)
    command = "rlkit bench " + " ".join(argv)
    write_text(out / "table.md", f"`{command}`\n\n{table}\n")
    record = {
        "command": command,
        "date": datetime.now().isoformat(timespec="seconds"),
        "seeds": plan["seeds"],
        "threshold": threshold,
        "common_overrides": common,
        "agents": [{"label": a.label, "overrides": a.overrides} for a in plan["agents"]],
        "rows": rows,
        "runs": [r.__dict__ for r in results],
        "total_time_s": round(time.perf_counter() - t0, 2),
    }
    write_text(out / "results.json", json.dumps(record, indent=2) + "\n")
    return table


def _iqm_cell(row: dict[str, Any]) -> str:
    """'97.5 [95.0, 100.0]', or 'n/a' without finished runs."""
    low, high = row.get("final_return_iqm_ci") or (None, None)
    if row.get("final_return_iqm") is None or low is None:
        return "n/a"
    return f"{row['final_return_iqm']:.1f} [{low:.1f}, {high:.1f}]"


def _share(value: float | None) -> str:
    """'0.75', or 'n/a'."""
    return "n/a" if value is None else f"{value:.2f}"


def _ratio(value: float | None) -> str:
    """'1.23x', or 'n/a' when there is nothing to compare (a contestant whose runs all failed)."""
    return "n/a" if value is None else f"{value:.2f}x"
