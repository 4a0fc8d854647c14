"""The floor of the supervised protocol: the runner, the agent + env by hand, the agent alone, the bare loop.

Alternating in one process, CPU time per step (medians over rounds) of one task's default config:

- ``runner``: ``runner.train()`` (evaluation and checkpoints at their defaults, so per-run costs included);
- ``by_hand``: the agent and the vector env stepped by a plain loop (act, step, observe, update), no runner;
- ``cached``: the same agent on one epoch of the env's outputs recorded beforehand (no env work at all);
- ``bare``: benchmarks/supervised.py's bare PyTorch loop (its one final test pass included).

    .venv/bin/python benchmarks/supervised_floor.py --task softmax --steps 900 --rounds 5
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from supervised import TASKS, alternate, run_bare, task_arguments, task_runner  # noqa: E402  (benchmarks/supervised.py)

from rlkit.core.types import Transition  # noqa: E402


def make_runner(overrides: list[str], steps: int):
    """The CLI's runner for the task, in a temporary run directory."""
    return task_runner([*overrides, f"total_steps={steps}"], Path(tempfile.mkdtemp()) / "run")


def runner_cpu(overrides: list[str], steps: int) -> float:
    """CPU seconds of runner.train()."""
    runner = make_runner(overrides, steps)
    c0 = time.process_time()
    runner.train()
    cpu = time.process_time() - c0
    runner.close()
    return cpu


def by_hand_cpu(overrides: list[str], steps: int, cached: bool) -> float:
    """CPU seconds of `steps` act/step/observe/update by a plain loop (`cached`: env outputs replayed)."""
    runner = make_runner(overrides, steps)
    agent, envs = runner.agent, runner.envs
    obs, epoch = envs.reset(seed=0), []
    if cached:
        for _ in range(envs.envs[0].unwrapped.batches_per_epoch):
            out = envs.step(agent.act(obs))
            epoch.append((obs, out))
            obs = out.obs
        agent._forward = None
    c0 = time.process_time()
    for i in range(steps):
        if cached:
            obs, out = epoch[i % len(epoch)]
            action = agent.act(obs)
        else:
            action = agent.act(obs)
            out = envs.step(action)
        flags = out.terminated, out.truncated
        agent.observe(Transition(obs, action, out.reward, out.next_obs, *flags, out.info))
        agent.update()
        obs = out.obs
    cpu = time.process_time() - c0
    runner.close()
    return cpu


def main() -> None:
    args = task_arguments(__doc__.splitlines()[0], steps=900)
    overrides, n = TASKS[args.task][0], args.steps
    ways = {
        "runner": lambda: runner_cpu(overrides, n),
        "by_hand": lambda: by_hand_cpu(overrides, n, cached=False),
        "cached": lambda: by_hand_cpu(overrides, n, cached=True),
        "bare": lambda: run_bare([*overrides, f"total_steps={n}"], n)["cpu_s"],
    }
    alternate(ways, args.rounds, n)


if __name__ == "__main__":
    main()
