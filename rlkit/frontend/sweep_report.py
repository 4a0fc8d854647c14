"""The results of `rlkit sweep`: results.csv (one row per trial), summary.json (per configuration: n, mean ±
std, median, IQM with its 95% stratified-bootstrap CI, probability of improvement), curves.png and a table.

Scores are each trial's final evaluation of the task's headline metric (the return for RL; accuracy, bits
per char, ... for tasks), read from its summary.json; configurations are ranked by IQM in the metric's
direction. The statistics are rlkit.frontend.stats's, shared with `rlkit bench`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from rlkit.core.diskio import write_text
from rlkit.core.headline import RETURN, Headline
from rlkit.frontend.plots import plot_learning_curves
from rlkit.frontend.stats import describe, probability_of_improvement
from rlkit.frontend.sweep_plan import Plan, trial_dir
from rlkit.frontend.sweep_trial import metric_rows

FIELDS = [
    "config",
    "seed",
    "status",
    "score",
    "best_eval",
    "steps",
    "wall_time_s",
    "node",
    "run_dir",
    "error",
]


def curve(metrics: Path, key: str) -> tuple[list[int], list[float]]:
    """(steps, eval/<key>) of a run's metrics.jsonl; of two evaluations at one step, the later one."""
    by_step: dict[int, float] = {}
    for row in metric_rows(metrics):
        if f"eval/{key}" in row:
            by_step[int(row["step"])] = float(row[f"eval/{key}"])
    return list(by_step), list(by_step.values())


def collect(sweep_dir: Path, plan: Plan, nodes: dict[str, str], errors: dict[str, str | None]) -> tuple:
    """(one record per trial, the headline metric)."""
    records, headline = [], None
    for trial in plan.trials():
        run_dir = trial_dir(sweep_dir, trial)
        rec: dict[str, Any] = dict.fromkeys(FIELDS)
        rec.update(config=trial.config, seed=trial.seed, status="unfinished", node=nodes.get(trial.name, ""),
                   run_dir=str(run_dir), error=errors.get(trial.name) or "")  # fmt: skip
        summary_path = run_dir / "summary.json"
        if summary_path.is_file():
            s = json.loads(summary_path.read_text(encoding="utf-8"))
            headline = headline or Headline.from_record(s.get("headline"))
            score = (s.get("headline") or {}).get("value", s["final_eval"].get("return_mean"))
            best = (s.get("best_eval") or {}).get("value")
            rec.update(
                status="done", score=score, best_eval=best, steps=s["steps"], wall_time_s=s["wall_time_s"]
            )
        elif rec["error"]:
            rec["status"] = "failed"
        records.append(rec)
    return records, headline or RETURN


def summarize(plan: Plan, records: list[dict], headline: Headline) -> dict[str, Any]:
    """Per configuration: its overrides and describe()'s numbers; the best by IQM; P(best > each)."""
    sign = 1.0 if headline.higher_is_better else -1.0
    rows = []
    for i, (name, overrides) in enumerate(plan.configs.items()):
        scores = [r["score"] for r in records if r["config"] == name and r["score"] is not None]
        rows.append({"config": name, "overrides": overrides, **describe(scores, seed=i), "scores": scores})
    ranked = [r for r in rows if r["iqm"] is not None]
    best = max(ranked, key=lambda r: sign * r["iqm"]) if ranked else None
    for row in rows:
        if best is not None and row["scores"]:
            xs, ys = [sign * v for v in best["scores"]], [sign * v for v in row["scores"]]
            row["p_best_better"] = probability_of_improvement(xs, ys)
        else:
            row["p_best_better"] = None
    matrix = {a["config"]: {b["config"]: probability_of_improvement([sign * v for v in a["scores"]],
                                                                  [sign * v for v in b["scores"]])
                            for b in ranked} for a in ranked}  # fmt: skip
    return {
        "metric": {"name": headline.name, "key": headline.key, "higher_is_better": headline.higher_is_better},
        "configs": rows,
        "best": best["config"] if best else None,
        "probability_of_improvement": matrix,  # [a][b]: P(a's score beats b's), in the metric's direction
    }


def table(summary: dict[str, Any]) -> str:
    """The per-configuration table in Markdown."""
    name = summary["metric"]["name"]
    lines = [
        f"| config | n | {name} mean ± std | median | IQM [95% CI] | P(best > it) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in summary["configs"]:
        if r["n"] == 0:
            lines.append(f"| {r['config']} | 0 | n/a | n/a | n/a | n/a |")
            continue
        p = (
            "-"
            if r["config"] == summary["best"] or r["p_best_better"] is None
            else f"{r['p_best_better']:.2f}"
        )
        best = " (best)" if r["config"] == summary["best"] else ""
        lines.append(
            f"| {r['config']}{best} | {r['n']} | {r['mean']:.2f} ± {r['std']:.2f} | {r['median']:.2f} "
            f"| {r['iqm']:.2f} [{r['iqm_ci'][0]:.2f}, {r['iqm_ci'][1]:.2f}] | {p} |"
        )
    return "\n".join(lines)


def write_results(sweep_dir: Path, plan: Plan, nodes: dict[str, str], errors: dict[str, str | None]) -> str:
    """Writes results.csv, summary.json, table.md and curves.png; returns the table."""
    records, headline = collect(sweep_dir, plan, nodes, errors)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    write_text(sweep_dir / "results.csv", buf.getvalue())
    summary = summarize(plan, records, headline)
    summary["command"] = "rlkit sweep " + " ".join(plan.argv)
    summary["trials"] = {s: sum(r["status"] == s for r in records) for s in ("done", "failed", "unfinished")}
    write_text(sweep_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    text = table(summary)
    write_text(sweep_dir / "table.md", f"`{summary['command']}`\n\n{text}\n")
    curves = {
        name: [
            curve(Path(r["run_dir"]) / "metrics.jsonl", headline.key) for r in records if r["config"] == name
        ]
        for name in plan.configs
    }
    if any(xs for runs in curves.values() for xs, _ in runs):
        title = f"{len(plan.configs)} configurations x {len(plan.seeds)} seeds"
        plot_learning_curves(curves, sweep_dir / "curves.png", title, ylabel=f"evaluation {headline.name}")
    return text
