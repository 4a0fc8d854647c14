"""Tabular throughput: rlkit's Q-learning on FrozenLake-v1 against a bare hand-written Q-learning loop.

Measures training env steps per second of

* ``bare``: a plain notebook-style Q-learning loop on ``gymnasium.make("FrozenLake-v1")``
  (epsilon-greedy, Q-table in NumPy, reset on terminated or truncated);
* ``rlkit``: exactly what ``rlkit train agent=q_learning env=FrozenLake-v1 ui=rich total_steps=N`` runs,
  with the rich UI and TensorBoard/JSONL logging on, periodic evaluation off (``eval.every=0``) and the
  final greedy evaluation cut to one episode (``eval.episodes=1``);
* ``rlkit+eval`` (for information): the same with the default periodic evaluation
  (``eval.every=2000``, ``eval.episodes=10``); its steps/s counts training steps only.

The rich UI draws to an in-memory console (``force_terminal=True``) so that the live display is rendered
exactly as on a terminal without flooding this script's output. Machines are shared and noisy, so the
contestants alternate within one process for ``--rounds`` rounds (the order rotates each round) and the
script reports medians and the ratio of medians, rlkit / bare, in wall-clock steps/s. Printed as
cross-checks: the ratio of CPU-time medians, the median of per-round ratios and the ratio of best rounds.
Targets: ratio of medians >= 0.5 (issue "foundation"), >= 0.8 (issue 20, runner overhead).

Run from the repository root::

    .venv/bin/python benchmarks/tabular_sps.py            # 200k steps, 5 rounds
    .venv/bin/python benchmarks/tabular_sps.py --steps 50000 --rounds 3 --out sps.json
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from rich.console import Console

from rlkit.frontend.app import build_runner, package_versions
from rlkit.frontend.compose import compose_config
from rlkit.frontend.ui import RichUI

ENV_ID = "FrozenLake-v1"
# rlkit's defaults (configs/agent/q_learning.yaml), so both contestants do the same work.
ALPHA, GAMMA, EPSILON, SEED = 0.1, 0.9, 0.1, 0
TARGETS = (0.5, 0.8)  # rlkit / bare, ratio of medians: issue "foundation", issue 20


def bare_q_learning(steps: int, seed: int = SEED) -> tuple[float, float]:
    """A hand-written Q-learning loop; (steps per wall second, per CPU second), env creation excluded."""
    env = gym.make(ENV_ID)
    n_actions = env.action_space.n
    rng = np.random.default_rng(seed)
    # Tiny random initial values break argmax ties, so this loop learns like rlkit's agent does (with an
    # all-zero table, np.argmax always picks action 0 and FrozenLake's goal is never reached).
    q = rng.uniform(0.0, 1e-6, (env.observation_space.n, n_actions))

    start, cpu_start = time.perf_counter(), time.process_time()
    state, _ = env.reset(seed=seed)
    for _ in range(steps):
        explore = rng.random() < EPSILON
        action = int(rng.integers(n_actions)) if explore else int(np.argmax(q[state]))
        next_state, reward, terminated, truncated, _ = env.step(action)
        target = reward if terminated else reward + GAMMA * np.max(q[next_state])
        q[state, action] += ALPHA * (target - q[state, action])
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    env.close()
    return steps / elapsed, steps / cpu


def rlkit_q_learning(steps: int, periodic_eval: bool) -> tuple[float, float]:
    """rlkit's runner as `rlkit train` builds it; training steps per wall / CPU second of runner.train()."""
    overrides = [
        "agent=q_learning",
        f"env={ENV_ID}",
        f"total_steps={steps}",
        f"seed={SEED}",
        "ui=rich",
    ]
    if periodic_eval:
        overrides += ["eval.every=2000", "eval.episodes=10"]
    else:
        overrides += ["eval.every=0", "eval.episodes=1"]
    cfg = compose_config(overrides)
    with tempfile.TemporaryDirectory(prefix="rlkit-bench-") as run_dir:
        runner = build_runner(cfg, Path(run_dir))
        runner.ui = RichUI(console=Console(file=io.StringIO(), force_terminal=True, width=120))
        try:
            start, cpu_start = time.perf_counter(), time.process_time()
            runner.train()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        finally:
            runner.close()
        if not list(Path(run_dir).glob("events.out.tfevents.*")):
            raise RuntimeError("rlkit wrote no TensorBoard event file: logging is not on")
        return runner.counters.step / elapsed, runner.counters.step / cpu


CONTESTANTS = {
    "bare": bare_q_learning,
    "rlkit": lambda steps: rlkit_q_learning(steps, periodic_eval=False),
    "rlkit+eval": lambda steps: rlkit_q_learning(steps, periodic_eval=True),
}


def machine() -> dict[str, str | int]:
    """CPU model and count, for the record."""
    import os

    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "nproc": len(os.sched_getaffinity(0)), "platform": platform.platform()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000, help="env steps per run (default 200000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every contestant (default 5)")
    parser.add_argument("--out", type=Path, default=None, help="optional JSON file for the results")
    args = parser.parse_args()

    names = list(CONTESTANTS)
    for name in names:  # warm-up: imports, Hydra, first torch.save, caches; not measured
        CONTESTANTS[name](2_000)

    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate so no one always goes first
        for name in order:
            sps, cpu_sps = CONTESTANTS[name](args.steps)
            wall[name].append(sps)
            cpu[name].append(cpu_sps)
            print(f"round {r + 1}/{args.rounds}  {name:<11} {sps:>10,.0f} steps/s", flush=True)

    median = statistics.median
    medians = {name: median(v) for name, v in wall.items()}
    cpu_medians = {name: median(v) for name, v in cpu.items()}
    ratios = {
        name: {
            "of_medians": medians[name] / medians["bare"],
            "of_cpu_medians": cpu_medians[name] / cpu_medians["bare"],
            "median_of_round_ratios": median(a / b for a, b in zip(wall[name], wall["bare"])),
            "of_maxima": max(wall[name]) / max(wall["bare"]),
        }
        for name in names
        if name != "bare"
    }
    print()
    print(f"{'contestant':<12} {'median steps/s':>15} {'min':>10} {'max':>10} {'median steps/CPU-s':>19}")
    for name in names:
        lo, hi = min(wall[name]), max(wall[name])
        print(f"{name:<12} {medians[name]:>15,.0f} {lo:>10,.0f} {hi:>10,.0f} {cpu_medians[name]:>19,.0f}")
    print()
    ratio = ratios["rlkit"]["of_medians"]
    verdicts = ", ".join(f">= {t}: {'PASS' if ratio >= t else 'FAIL'}" for t in TARGETS)
    print(f"ratio rlkit / bare (medians): {ratio:.3f}  (targets {verdicts})")
    for name, rs in ratios.items():
        print(
            f"  {name:<11} / bare: of medians {rs['of_medians']:.3f}, of CPU-time medians "
            f"{rs['of_cpu_medians']:.3f}, median of per-round ratios {rs['median_of_round_ratios']:.3f}, "
            f"of best rounds {rs['of_maxima']:.3f}"
        )

    if args.out is not None:
        report = {
            "benchmark": "tabular_sps",
            "env": ENV_ID,
            "steps": args.steps,
            "rounds": args.rounds,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": machine(),
            "versions": package_versions(),
            "steps_per_s": wall,
            "steps_per_cpu_s": cpu,
            "median_steps_per_s": medians,
            "median_steps_per_cpu_s": cpu_medians,
            "ratios_over_bare": ratios,
            "ratio_rlkit_over_bare": ratio,
            "target_ratios": list(TARGETS),
        }
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
