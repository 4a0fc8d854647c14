"""What skipping the env's scoring of training answers would buy: an upper bound, by monkeypatching.

`runner.train()` of a task's default config, CPU per step, three ways alternating in one process:

- ``scored``: as it is (act answers each minibatch; the env scores the answer);
- ``unscored``: act runs the training forward pass but answers a constant (no argmax, no NumPy copy) and the
  env's `score` returns a constant: what "training steps not scored by the env" could at best save;
- ``bare``: benchmarks/supervised.py's bare PyTorch loop.

    .venv/bin/python benchmarks/supervised_unscored.py --task softmax --steps 900 --rounds 5
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from supervised import TASKS, alternate, run_bare, task_arguments, task_runner  # noqa: E402

from rlkit.envs.supervised import SupervisedEnv  # noqa: E402


def unscored(runner) -> None:
    """Training answers become a constant; the env's score a constant (restored by `scored`)."""
    agent = runner.agent
    constant = np.zeros(runner.envs.single_action_space.shape, runner.envs.single_action_space.dtype)[None]
    greedy = agent.act

    def act(obs: np.ndarray, explore: bool = True) -> np.ndarray:
        if not explore:
            return greedy(obs, explore)
        agent._act_with(obs, True, lambda out: None)  # the forward pass update() backpropagates through
        return constant

    agent.act = act
    SupervisedEnv.score = lambda self, pred, target, mask: {self.reward_key: 0.0}


def train_cpu(overrides: list[str], patch: bool) -> float:
    """CPU seconds of runner.train()."""
    score = SupervisedEnv.score
    runner = task_runner(overrides, Path(tempfile.mkdtemp()) / "run")
    if patch:
        unscored(runner)
    c0 = time.process_time()
    try:
        runner.train()
    finally:
        SupervisedEnv.score = score
    cpu = time.process_time() - c0
    runner.close()
    return cpu


def main() -> None:
    args = task_arguments(__doc__.splitlines()[0], steps=900)
    overrides, n = [*TASKS[args.task][0], f"total_steps={args.steps}"], args.steps
    ways = {
        "scored": lambda: train_cpu(overrides, False),
        "unscored": lambda: train_cpu(overrides, True),
        "bare": lambda: run_bare(overrides, n)["cpu_s"],
    }
    alternate(ways, args.rounds, n)


if __name__ == "__main__":
    main()
