"""Where a supervised run's CPU time goes, per step and per run, beside the bare loop's step (issue 20).

Runs a task's default config in-process (``ui=none``, ``num_threads=1``) at two budgets, `--steps` and twice
that, with CPU-time counters (time.process_time_ns) around the agent's act, the whole vector step, the env's
own step (the unwrapped env's, so Gymnasium's wrappers show as the difference), observe + update, the
evaluations and the checkpoint saves. The rest of runner.train() is the runner's own bookkeeping. Per-step
costs are the slope between the two budgets (fixed per-run costs cancel), per-run costs the intercept. The
bare loop of benchmarks/supervised.py runs alternately in the same process and gives the bare step's cost.

    .venv/bin/python benchmarks/supervised_steps.py --task softmax --steps 450 --rounds 5
    .venv/bin/python benchmarks/supervised_steps.py --task ar --steps 1000 --rounds 5

The counters themselves cost about 0.2-0.5 us each (printed as `timer`); a step makes 8 of them.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from supervised import TASKS, run_bare, task_arguments, task_runner  # noqa: E402  (benchmarks/supervised.py)

PARTS = ("act", "vector_step", "env_step", "update", "evaluate", "save")


def timed(fn, totals: dict[str, int], key: str):
    """`fn` with its CPU time added to totals[key]."""
    clock = time.process_time_ns

    def wrapper(*args, **kwargs):
        t0 = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[key] += clock() - t0

    return wrapper


def run_instrumented(overrides: list[str], steps: int, run_dir: Path) -> dict[str, float]:
    """CPU seconds of runner.train() and of each part, for a run of `steps` env steps."""
    runner = task_runner([*overrides, f"total_steps={steps}"], run_dir)
    totals: dict[str, int] = defaultdict(int)
    agent, envs = runner.agent, runner.envs
    agent.act = timed(agent.act, totals, "act")
    observe = agent.observe
    agent.observe = timed(observe, totals, "update")
    agent.update = timed(agent.update, totals, "update")
    envs.step = timed(envs.step, totals, "vector_step")
    inner = envs.envs[0].unwrapped
    inner.step = timed(inner.step, totals, "env_step")
    runner._evaluate = timed(runner._evaluate, totals, "evaluate")
    runner.save = timed(runner.save, totals, "save")
    c0 = time.process_time_ns()
    runner.train()
    total = time.process_time_ns() - c0
    runner.close()
    out = {k: totals[k] / 1e9 for k in PARTS}  # evaluations' act calls count in both act and evaluate
    out["total"] = total / 1e9
    return out


def timer_cost() -> float:
    """Seconds one process_time_ns() call costs."""
    clock, n = time.process_time_ns, 20000
    t0 = clock()
    for _ in range(n):
        clock()
    return (clock() - t0) / 1e9 / n


def main() -> None:
    args = task_arguments(__doc__.splitlines()[0], steps=450)
    overrides = TASKS[args.task][0]
    runs: dict[str, list] = {"short": [], "long": [], "bare_short": [], "bare_long": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            runs["short"].append(run_instrumented(overrides, args.steps, Path(tmp) / f"s{r}"))
            runs["bare_short"].append(run_bare([*overrides, f"total_steps={args.steps}"], args.steps))
            runs["long"].append(run_instrumented(overrides, 2 * args.steps, Path(tmp) / f"l{r}"))
            runs["bare_long"].append(run_bare([*overrides, f"total_steps={args.steps}"], 2 * args.steps))
    med = {w: {k: statistics.median(o[k] for o in runs[w]) for k in runs[w][0]} for w in ("short", "long")}
    bare = {w: statistics.median(o["cpu_s"] for o in runs[f"bare_{w}"]) for w in ("short", "long")}
    bare_step = (bare["long"] - bare["short"]) / args.steps
    print(f"task {args.task}: {args.steps} and {2 * args.steps} steps, {args.rounds} rounds, CPU medians")
    print(f"timer {timer_cost() * 1e6:.2f} us per call")
    print(f"{'part':<14}{'per step us':>12}{'per run ms':>12}")
    slope = {k: (med["long"][k] - med["short"][k]) / args.steps for k in med["long"]}
    for key in (*PARTS, "total"):
        fixed = med["short"][key] - slope[key] * args.steps
        print(f"{key:<14}{slope[key] * 1e6:>12.1f}{fixed * 1e3:>12.1f}")
    rest = slope["total"] - slope["act"] - slope["vector_step"] - slope["update"] - slope["save"]
    rest -= slope["evaluate"]
    print(f"{'wrappers+vec':<14}{(slope['vector_step'] - slope['env_step']) * 1e6:>12.1f}")
    print(f"{'runner rest':<14}{rest * 1e6:>12.1f}")
    print(f"{'bare step':<14}{bare_step * 1e6:>12.1f}{(bare['short'] - bare_step * args.steps) * 1e3:>12.1f}")
    print(
        f"ratio bare/rlkit CPU at {args.steps} steps: {bare['short'] / med['short']['total']:.3f}; "
        f"per step only: {bare_step / slope['total']:.3f}"
    )


if __name__ == "__main__":
    main()
