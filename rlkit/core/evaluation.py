"""Greedy evaluation of an agent on its own env instance, seeded per episode so a seed repeats its numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import gymnasium as gym
import numpy as np

from rlkit.core.types import Agent

EVAL_SEED_OFFSET = 1_000_003  # evaluation episode k starts from seed + this + k; play and eval default to it

DEFAULT_MAX_EPISODE_STEPS = 10_000  # eval.max_episode_steps: for an env without a time limit of its own


@dataclass
class EvalResult:
    """Returns and lengths of a set of greedy episodes."""

    returns: list[float]
    lengths: list[int]
    metrics: dict[str, float] = field(default_factory=dict)  # task-specific, e.g. accuracy: eval/<key>
    cut: list[bool] = field(default_factory=list)  # per episode: cut by the step cap of the evaluation

    @property
    def truncated_fraction(self) -> float:
        """The share of episodes cut by the evaluation's step cap (eval/truncated)."""
        return float(np.mean(self.cut)) if self.cut else 0.0

    @property
    def all_truncated(self) -> bool:
        """Every episode was cut by the cap: the policy never ended one (its return says little)."""
        return bool(self.cut) and all(self.cut)

    @property
    def return_mean(self) -> float:
        """Mean episode return."""
        return float(np.mean(self.returns))

    @property
    def return_std(self) -> float:
        """Population standard deviation of the returns."""
        return float(np.std(self.returns))

    @property
    def length_mean(self) -> float:
        """Mean episode length in steps."""
        return float(np.mean(self.lengths))

    def summary(self) -> dict[str, float]:
        """Mean/std/min/max return, mean length and the env's metrics, for summary.json and tables."""
        return {
            "episodes": len(self.returns),
            "return_mean": self.return_mean,
            "return_std": self.return_std,
            "return_min": float(np.min(self.returns)),
            "return_max": float(np.max(self.returns)),
            "length_mean": self.length_mean,
            "truncated": self.truncated_fraction,
            **self.metrics,
        }

    def as_dict(self) -> dict:
        """Everything, raw lists included."""
        return {**self.summary(), **asdict(self)}


def episode_step_limit(env: gym.Env) -> int | None:
    """The env's own episode cap: its TimeLimit (spec.max_episode_steps), else an `episode_step_limit`
    attribute of one of its wrappers (Atari's frame cap); None when it has none."""
    spec = getattr(env, "spec", None)
    if spec is not None and spec.max_episode_steps:
        return int(spec.max_episode_steps)
    try:
        limit = env.get_wrapper_attr("episode_step_limit")
    except AttributeError:
        return None
    return int(limit) if limit else None


def evaluate(
    agent: Agent,
    env: gym.Env,
    episodes: int,
    seed: int,
    max_steps: int = DEFAULT_MAX_EPISODE_STEPS,
    on_episode: Callable[[int, int, int], None] | None = None,
) -> EvalResult:
    """Plays `episodes` greedy episodes; episode k starts from env.reset(seed=seed + k).

    An episode ends at the env's own cap when it has one (see episode_step_limit), else after `max_steps`
    (eval.max_episode_steps): an env without a time limit and a policy that loops would never end one.
    Episodes cut by `max_steps` count as truncated. `on_episode(k, episodes, steps)` is called before
    episode k (0-based) and once more with k == episodes at the end, `steps` played so far, for a display.
    """
    cap = episode_step_limit(env) or max_steps
    returns, lengths, cut, steps = [], [], [], 0
    metrics = MetricsMean()
    for k in range(episodes):
        if on_episode is not None:
            on_episode(k, episodes, steps)
        obs, _ = env.reset(seed=seed + k)
        total, length, done = 0.0, 0, False
        while not done and length < cap:
            action = agent.act(np.asarray(obs)[None], explore=False)[0]
            obs, reward, terminated, truncated, info = env.step(action)
            metrics.add(info.get("metrics"))
            total += float(reward)
            length += 1
            done = terminated or truncated
        returns.append(total)
        lengths.append(length)
        steps += length
        cut.append(not done)
    if on_episode is not None:
        on_episode(episodes, episodes, steps)
    return EvalResult(returns, lengths, metrics.means(), cut)


class MetricsMean:
    """Weighted means of the numbers envs report per step in info["metrics"] (weight: its "count", else 1).

    E.g. a supervised task reports {"accuracy": 0.9, "count": 100} per minibatch; the mean over an evaluation
    is then the accuracy over all its examples. Envs that report nothing give an empty dict.
    """

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.weights: dict[str, float] = {}

    def add(self, metrics: dict | None) -> None:
        """Adds one step's metrics; non-numeric values are ignored."""
        if not metrics:
            return
        weight = float(metrics.get("count", 1.0))
        for key, value in metrics.items():
            if key != "count" and isinstance(value, int | float | np.number) and not isinstance(value, bool):
                self.sums[key] = self.sums.get(key, 0.0) + weight * float(value)
                self.weights[key] = self.weights.get(key, 0.0) + weight

    def means(self) -> dict[str, float]:
        """Each key's weighted mean (keys whose total weight is 0 are left out)."""
        return {k: self.sums[k] / w for k, w in self.weights.items() if w > 0}
