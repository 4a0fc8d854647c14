"""Random against Optuna search in `rlkit sweep`, side by side on one local Ray, and the cost of the
TensorBoard hparams summary a finished trial gets.

    .venv/bin/python benchmarks/sweep_search.py [--samples 4] [--steps 3000]

Both sweeps: Q-learning on maze_traps, agent.alpha=loguniform(0.02,1) x agent.epsilon=0.05,0.1,0.2, one seed
per configuration, 2 CPUs. Prints the wall time of each sweep, the best configuration's score, and the mean
time of writing one trial's hparams event file.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rlkit.core.headline import RETURN
from rlkit.frontend import sweep_ray
from rlkit.frontend.cli import main
from rlkit.frontend.sweep_board import hparams_of, write_hparams
from rlkit.frontend.sweep_plan import Plan, trial_dir


def run(search: str, samples: int, steps: int, out: Path) -> float:
    """Wall seconds of one sweep."""
    args = ["sweep", "agent=q_learning", "env=maze_traps", "agent.alpha=loguniform(0.02,1)"]
    args += ["agent.epsilon=0.05,0.1,0.2", f"sweep.search={search}", f"sweep.samples={samples}", "seeds=1"]
    args += [f"total_steps={steps}", f"eval.every={steps // 2}", "eval.episodes=5", f"out={out}", "ui=none"]
    t0 = time.perf_counter()
    assert main(args) == 0
    return time.perf_counter() - t0


def main_() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3000)
    a = parser.parse_args()
    started = sweep_ray.connect({"num_cpus": 2})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = []
            for search in ("random", "optuna"):
                out = Path(tmp) / search
                wall = run(search, a.samples, a.steps, out)
                best = json.loads((out / "summary.json").read_text())["configs"]
                rows.append((search, wall, max(c["mean"] for c in best)))
            plan = Plan.load(out)
            for path in out.glob("trials/*/seed_*/events.out.tfevents.*.hparams"):
                path.unlink()
            t0 = time.perf_counter()
            for trial in plan.trials():
                write_hparams(trial_dir(out, trial), hparams_of(plan, trial), RETURN, trial.name)
            per_trial = (time.perf_counter() - t0) / len(plan.trials())
    finally:
        sweep_ray.disconnect(started)
    print("| search | configurations | wall s | best mean return |\n|---|---:|---:|---:|")
    for search, wall, best in rows:
        print(f"| {search} | {a.samples} | {wall:.1f} | {best:.2f} |")
    print(f"hparams summary: {per_trial * 1000:.1f} ms per trial")


if __name__ == "__main__":
    main_()
