"""Wall time of `rlkit sweep` on a local Ray with 1 and 2 CPUs against the same trials run one after another
with `rlkit train` (each a fresh process, as a shell loop would run them): Ray's overhead and the speed-up.

    .venv/bin/python benchmarks/sweep.py                    # 8-trial tabular and 4-trial DQN CartPole sweeps
    .venv/bin/python benchmarks/sweep.py --only tabular --rounds 2 --out results.json

Workloads: tabular, Q-learning on maze_traps, agent.alpha=0.1,0.5 x 4 seeds, 20,000 steps each; DQN,
+experiment=dqn_cartpole with agent.double=true,false x 2 seeds, 5,000 steps each, num_threads=1. The three
contestants (sequential, sweep 1 CPU, sweep 2 CPUs) alternate within each round; the sweep's times include
starting and stopping Ray and composing the configs, as a user waits for them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RLKIT = str(Path(sys.executable).with_name("rlkit"))
WORKLOADS = {
    "tabular": (
        ["agent=q_learning", "env=maze_traps", "total_steps=20000", "eval.every=5000"],
        {"agent.alpha": ["0.1", "0.5"]},
        4,
    ),
    "dqn": (
        [
            "+experiment=dqn_cartpole",
            "total_steps=5000",
            "eval.every=2500",
            "eval.episodes=3",
            "num_threads=1",
        ],
        {"agent.double": ["true", "false"]},
        2,
    ),
}


def sequential(common: list[str], grid: dict[str, list[str]], seeds: int, out: Path) -> float:
    """Seconds for every trial as its own `rlkit train` process, one after another."""
    t0 = time.perf_counter()
    for i, values in enumerate(itertools.product(*grid.values())):
        for seed in range(seeds):
            over = [f"{k}={v}" for k, v in zip(grid, values)]
            cmd = [
                RLKIT,
                "train",
                *common,
                *over,
                f"seed={seed}",
                f"hydra.run.dir={out}/c{i}_s{seed}",
                "ui=none",
            ]
            subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def sweep(common: list[str], grid: dict[str, list[str]], seeds: int, out: Path, cpus: int) -> float:
    """Seconds for `rlkit sweep` of the same trials on a local Ray with `cpus` CPUs."""
    axes = [f"{k}={','.join(v)}" for k, v in grid.items()]
    cmd = [
        RLKIT,
        "sweep",
        *common,
        *axes,
        f"seeds={seeds}",
        f"sweep.num_cpus={cpus}",
        f"out={out}",
        "ui=none",
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=list(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {}
    for name, (common, grid, seeds) in WORKLOADS.items():
        if args.only and name != args.only:
            continue
        times: dict[str, list[float]] = {"sequential": [], "sweep_1cpu": [], "sweep_2cpu": []}
        trials = seeds * len(list(itertools.product(*grid.values())))
        for r in range(args.rounds):
            tmp = Path(tempfile.mkdtemp(prefix="rlkit_sweep_bench_"))
            try:
                times["sequential"].append(sequential(common, grid, seeds, tmp / "seq"))
                times["sweep_1cpu"].append(sweep(common, grid, seeds, tmp / "s1", 1))
                times["sweep_2cpu"].append(sweep(common, grid, seeds, tmp / "s2", 2))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            print(
                f"{name} round {r}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True
            )
        med = {k: statistics.median(v) for k, v in times.items()}
        results[name] = {"trials": trials, "seconds": times, "median_s": med,
                         "overhead_1cpu": med["sweep_1cpu"] / med["sequential"],
                         "speedup_2cpu": med["sequential"] / med["sweep_2cpu"]}  # fmt: skip
        cells = [name, trials, *(f"{med[k]:.1f}" for k in times), f"{results[name]['overhead_1cpu']:.2f}"]
        print(
            "| " + " | ".join(map(str, [*cells, f"{results[name]['speedup_2cpu']:.2f}"])) + " |", flush=True
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
