"""Greedy evaluation with its episodes played side by side: one act() for all of them at each step.

`evaluate` (rlkit.core.evaluation) plays one episode after another and calls the agent once per env step
with a batch of one observation. For a torch policy that call, not the env, is the cost: a solved CartPole
evaluation (10 episodes of 500 steps) made 5,000 forward passes, more than the 2,000 training steps between
two evaluations at the default settings, and REINFORCE's whole run took about 4x its training. Here the
episodes run on their own env instances, up to `MAX_BATCH` at a time, and the agent acts for all running
episodes in one call. Episode k still starts from reset(seed=seed + k) and ends at the same cap; returns,
lengths and the env metrics (added in episode order, then step order, as `evaluate` adds them) are the same
numbers, for agents whose greedy act() gives each row the action it gives that row alone and draws no
random numbers. Agents say so with a class attribute `batched_greedy = True`; the runner uses this only
for them (tabular agents break ties at random, so they keep `evaluate`). One caveat for torch policies: a
row's logits are not guaranteed to be bitwise the same in a batch as alone (kernels may sum in another
order), so an exact tie could in principle break the other way; the fixed-seed runs checked for issue 20
(REINFORCE and DQN on CartPole) gave identical metrics.jsonl files.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from rlkit.core.evaluation import (
    DEFAULT_MAX_EPISODE_STEPS,
    EvalResult,
    MetricsMean,
    episode_step_limit,
    evaluate,
)
from rlkit.core.types import Agent

MAX_BATCH = 16  # episodes played together (so at most this many eval envs exist)


def evaluate_batched(
    agent: Agent,
    envs: list[gym.Env],
    episodes: int,
    seed: int,
    max_steps: int = DEFAULT_MAX_EPISODE_STEPS,
    on_episode: Callable[[int, int, int], None] | None = None,
) -> EvalResult:
    """`evaluate`'s result, with up to len(envs) episodes played at once (see the module docstring)."""
    cap = episode_step_limit(envs[0]) or max_steps
    returns, lengths, cut = [0.0] * episodes, [0] * episodes, [False] * episodes
    step_metrics: list[list[dict | None]] = [[] for _ in range(episodes)]
    done_count, steps = 0, 0
    if on_episode is not None:
        on_episode(0, episodes, 0)
    for first in range(0, episodes, len(envs)):
        live = {i: first + i for i in range(min(len(envs), episodes - first))}  # env index -> episode
        obs = {i: envs[i].reset(seed=seed + k)[0] for i, k in live.items()}
        while live:
            running = list(live)
            actions = agent.act(np.stack([np.asarray(obs[i]) for i in running]), explore=False)
            for i, action in zip(running, actions):
                k = live[i]
                obs[i], reward, terminated, truncated, info = envs[i].step(action)
                step_metrics[k].append(info.get("metrics"))
                returns[k] += float(reward)
                lengths[k] += 1
                if terminated or truncated or lengths[k] >= cap:
                    cut[k] = not (terminated or truncated)
                    del live[i]
                    done_count, steps = done_count + 1, steps + lengths[k]
                    if on_episode is not None:
                        on_episode(done_count, episodes, steps)
    metrics = MetricsMean()
    for episode_metrics in step_metrics:
        for m in episode_metrics:
            metrics.add(m)
    return EvalResult(returns, lengths, metrics.means(), cut)


class EvalEnvs:
    """The runner's evaluation envs, made when first needed: one, or up to MAX_BATCH for batched agents."""

    def __init__(self, make_env: Callable[[], gym.Env]):
        self._make_env = make_env
        self.envs: list[gym.Env] = []

    def evaluate(
        self,
        agent: Agent,
        episodes: int,
        seed: int,
        max_steps: int,
        on_episode: Callable[[int, int, int], None] | None = None,
    ) -> EvalResult:
        """Plays `episodes` greedy episodes: side by side when the agent allows it, else one by one."""
        batched = getattr(agent, "batched_greedy", False) and episodes > 1
        wanted = min(episodes, MAX_BATCH) if batched else 1
        while len(self.envs) < wanted:
            self.envs.append(self._make_env())
        if batched:
            return evaluate_batched(agent, self.envs[:wanted], episodes, seed, max_steps, on_episode)
        return evaluate(agent, self.envs[0], episodes, seed, max_steps, on_episode)

    def close(self) -> None:
        """Closes the envs made."""
        for env in self.envs:
            env.close()
