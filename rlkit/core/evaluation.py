"""Greedy episodes of an agent: one `play_episode` for evaluation, `rlkit eval`, `rlkit play` and training
videos, and `evaluate`, seeded per episode so a seed repeats its numbers."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.core.errors import RlkitWarning
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

    def scalars(self) -> dict[str, float]:
        """The eval/ scalars the runner logs: return mean/std, mean length, truncated share, env metrics."""
        return {
            "eval/return_mean": self.return_mean,
            "eval/return_std": self.return_std,
            "eval/length_mean": self.length_mean,
            "eval/truncated": self.truncated_fraction,
            **{f"eval/{k}": v for k, v in self.metrics.items()},
        }

    def as_dict(self) -> dict:
        """Everything, raw lists included."""
        return {**self.summary(), **asdict(self)}


def warn_all_truncated(result: EvalResult, step: int, max_steps: int) -> None:
    """Warns that every episode of the evaluation at `step` was cut by the cap (its return is not used)."""
    warnings.warn(
        f"evaluation at step {step:,}: all {len(result.returns)} episodes reached "
        f"eval.max_episode_steps={max_steps:,} without ending (eval/truncated=1); "
        "their return is not used for best.pt",
        RlkitWarning,
        stacklevel=3,
    )


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


@dataclass
class Episode:
    """One played episode: its return, its length, whether the step cap cut it, the frames kept (if asked)."""

    ret: float = 0.0
    length: int = 0
    cut: bool = False
    frames: list[Any] = field(default_factory=list)


def play_episode(
    agent: Agent,
    env: gym.Env,
    seed: int,
    on_frame: Callable[[Any, int, float | None, float], None] | None = None,
    keep_frames: bool = False,
    max_steps: int = DEFAULT_MAX_EPISODE_STEPS,
    metrics: MetricsMean | None = None,
) -> Episode:
    """Plays one greedy episode from env.reset(seed=seed): evaluation, `rlkit eval`, `rlkit play`, videos.

    The episode ends when the env ends it or after `max_steps` steps (then `cut` is set). Each step's
    info["metrics"] is added to `metrics` when given. With `on_frame` or `keep_frames` the env is rendered
    after the reset and after every step: `on_frame(frame, step, reward, return_so_far)` sees each frame
    (reward is None at the reset) and `keep_frames` keeps them. An env without a render mode (or a human
    window) gives none.
    """
    ep = Episode()
    obs, _ = env.reset(seed=seed)
    rendering = (on_frame is not None or keep_frames) and env.render_mode not in (None, "human")

    def _render(reward: float | None) -> None:
        frame = env.render()
        if keep_frames:
            ep.frames.append(frame)
        if on_frame is not None:
            on_frame(frame, ep.length, reward, ep.ret)

    if rendering:
        _render(None)
    done = False
    while not done and ep.length < max_steps:
        action = agent.act(np.asarray(obs)[None], explore=False)[0]
        obs, reward, terminated, truncated, info = env.step(action)
        if metrics is not None:
            metrics.add(info.get("metrics"))
        ep.ret += float(reward)
        ep.length += 1
        done = terminated or truncated
        if rendering:
            _render(float(reward))
    ep.cut = not done
    return ep


def evaluate(
    agent: Agent,
    env: gym.Env,
    episodes: int,
    seed: int,
    max_steps: int = DEFAULT_MAX_EPISODE_STEPS,
    on_episode: Callable[[int, int, int], None] | None = None,
) -> EvalResult:
    """Plays `episodes` greedy episodes (play_episode); episode k starts from env.reset(seed=seed + k).

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
        ep = play_episode(agent, env, seed + k, max_steps=cap, metrics=metrics)
        returns.append(ep.ret)
        lengths.append(ep.length)
        steps += ep.length
        cut.append(ep.cut)
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
