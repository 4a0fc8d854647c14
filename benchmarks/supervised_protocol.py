"""What answering and scoring each minibatch costs in a training loop: the bare loop, one piece at a time.

A supervised task in rlkit is an env (envs/supervised.py): each step the agent answers the minibatch (the
predicted labels, as a NumPy array) and the env scores the answer. This script adds those pieces one at a time
to benchmarks/supervised.py's bare PyTorch loop of a task (same model, minibatches, steps), alternating in one
process, and prints each variant's CPU time per step (medians) and what it adds to the bare step:

- ``bare``: forward, loss, zero_grad, backward, optimiser step;
- ``+answer``: the predicted labels to NumPy (``out.detach().argmax(-1).numpy()``), as any env protocol needs;
- ``+score``: and the least scoring an env can do (hits counted against the targets, a reward float);
- ``+env``: and the task env's own step instead (Gymnasium wrappers, next minibatch, targets, mask, metrics);
- ``+vector``: and rlkit's vector env around it (the (1, ...) batch arrays, episode bookkeeping);
- ``+loss``: and the loss read back as a float (the divergence check; train/loss).

The same Python code costs 3-4x more between torch's forward and backward passes than in a tight loop alone
(measured: 100 empty loop iterations add 4 us to a softmax step), so pieces are timed in place, not alone.

    .venv/bin/python benchmarks/supervised_protocol.py --task softmax --steps 2000 --rounds 5
"""

from __future__ import annotations

import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from supervised import TASKS, alternate, minibatches, task_arguments, task_runner  # noqa: E402

from rlkit.agents.model_agent import masked_cross_entropy  # noqa: E402

VARIANTS = ("bare", "+answer", "+score", "+env", "+vector", "+loss")


def loop(runner, variant: str, steps: int) -> float:
    """CPU seconds of `steps` steps of the bare loop with the pieces up to `variant` added."""
    level = VARIANTS.index(variant)
    envs, agent = runner.envs, runner.agent
    env = envs.envs[0]
    task = env.unwrapped
    model, opt = agent.model, agent.optimizer
    x_all, y_all, b = task.inputs, task.targets, task.batch_size
    envs.reset(seed=0)
    c0 = time.process_time()
    for rows in minibatches(x_all, b, steps, 0):
        out = model(torch.from_numpy(x_all[rows]))
        y = y_all[rows]
        if level >= 1:
            pred = out.detach().argmax(-1).numpy()
            if len(pred) < b:  # the epoch's last, partial minibatch: padded like the env's
                pred, y = np.resize(pred, b), np.resize(y, b)
            if level == 2:
                reward = int(np.count_nonzero(pred == y)) / b
            elif level == 3:
                env.step(pred) if task._batch < task.batches_per_epoch - 1 else env.reset()
            elif level >= 4:
                envs.step(pred[None])
        loss = masked_cross_entropy(out, torch.from_numpy(y_all[rows]), None)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if level >= 5:
            value = float(loss.detach())
            reward = value == value  # noqa: F841  (the finite check)
    return time.process_time() - c0


def main() -> None:
    args = task_arguments(__doc__.splitlines()[0], steps=2000)
    overrides = [*TASKS[args.task][0], f"total_steps={args.steps}"]
    runner = task_runner(overrides, Path(tempfile.mkdtemp()) / "run")
    if runner.agent.kind != "classification":
        raise SystemExit("supervised_protocol.py times classification tasks (softmax, cnn)")
    for variant in VARIANTS:  # warm-up
        loop(runner, variant, 200)
    alternate({v: partial(loop, runner, v, args.steps) for v in VARIANTS}, args.rounds, args.steps)
    runner.close()


if __name__ == "__main__":
    main()
