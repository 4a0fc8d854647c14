"""Issue 20: the supervised agent's lazy train metrics and skipped stream swap, against the eager code.

In one process, alternating, each task runs ``rlkit train`` (its default config, ``ui=none``, one torch
thread) with the agent as it is, and with the agent as it was before the change: train/accuracy computed
eagerly every update and the RandomStream swapped in around every forward pass (both restored by patching
rlkit.agents.supervised). Prints median steps/s (wall and CPU) of both and their ratio new / old; both
runs write the same metrics (tests/test_supervised_lazy.py).

    .venv/bin/python benchmarks/supervised_lazy.py --tasks softmax ar --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from supervised import METRIC, TASKS, run_rlkit  # benchmarks/supervised.py, next to this script

import rlkit.agents.supervised as sup

EAGER = {"LazyMetric": lambda compute: compute(), "draws_random": lambda model: True}


def run(task: str, eager: bool) -> dict:
    """One run of the task, with the agent's code as it is or as it was (eager)."""
    saved = {name: getattr(sup, name) for name in EAGER}
    if eager:
        for name, value in EAGER.items():
            setattr(sup, name, value)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return run_rlkit(TASKS[task][0], Path(tmp) / "run", METRIC.get(task, "accuracy"))
    finally:
        for name, value in saved.items():
            setattr(sup, name, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["softmax", "ar"], choices=list(TASKS))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report = {}
    for task in args.tasks:
        runs: dict[str, list[dict]] = {"old": [], "new": []}
        for i in range(args.rounds):
            for which in ("old", "new") if i % 2 == 0 else ("new", "old"):
                runs[which].append(run(task, eager=which == "old"))
        median = {
            f"{which}_{clock}_sps": statistics.median(r["steps"] / r[f"{clock}_s"] for r in rs)
            for which, rs in runs.items()
            for clock in ("wall", "cpu")
        }
        report[task] = {
            **{k: round(v, 1) for k, v in median.items()},
            "ratio_wall": round(median["new_wall_sps"] / median["old_wall_sps"], 3),
            "ratio_cpu": round(median["new_cpu_sps"] / median["old_cpu_sps"], 3),
            "final": sorted({round(r["accuracy"], 6) for rs in runs.values() for r in rs}),
        }
        print(json.dumps({task: report[task]}), flush=True)


if __name__ == "__main__":
    main()
