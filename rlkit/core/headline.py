"""The one number a task is judged by: an env's headline metric, shown first everywhere a run is reported.

RL envs are judged by their mean episode return. A supervised task names its own number (accuracy, bits per
char, MSE, ...) with a class or instance attribute ``headline = Headline(...)`` on the env (the unwrapped
one); `key` is a key of the evaluation's summary (rlkit.core.evaluation.EvalResult.summary(): ``return_mean``
or one of the env's ``info["metrics"]``), i.e. the ``eval/<key>`` scalar the runner logs. The live display,
the final lines, summary.json ("headline") and `rlkit eval` lead with it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Headline:
    """A task's headline metric: display name, the eval/<key> it reads, its direction and decimals."""

    name: str
    key: str
    higher_is_better: bool = True
    decimals: int = 3

    def format(self, value: float) -> str:
        """'<name> <value>' with the metric's decimals, e.g. 'accuracy 0.969'."""
        return f"{self.name} {value:.{self.decimals}f}"

    def record(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The headline as summary.json and eval.json write it (value None when the evaluation lacks it;
        decimals: how many the display shows)."""
        value = summary.get(self.key)
        return {
            "name": self.name,
            "key": self.key,
            "value": None if value is None else float(value),
            "higher_is_better": self.higher_is_better,
            "decimals": self.decimals,
        }

    def score(self, summary: dict[str, Any]) -> float:
        """The headline as a number where higher is better (negated when lower is better; -inf when the
        evaluation lacks it): what best.pt is chosen by."""
        value = summary.get(self.key)
        if value is None:
            return -float("inf")
        return float(value) if self.higher_is_better else -float(value)

    def unscore(self, score: float) -> float | None:
        """The headline value of a score() (None for -inf: nothing was measured)."""
        if score == -float("inf"):
            return None
        return score if self.higher_is_better else -score

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> Headline:
        """The headline a summary.json or eval.json names (RETURN when it names none: older runs)."""
        if not record:
            return RETURN
        return cls(record["name"], record["key"], record["higher_is_better"], record.get("decimals", 3))


RETURN = Headline("return", "return_mean", higher_is_better=True, decimals=2)


def headline_of(env: Any) -> Headline:
    """The headline an env (a Gymnasium env, wrapped or not, or a vector env of them) names; else RETURN."""
    envs = getattr(env, "envs", None)
    if isinstance(envs, list | tuple) and envs:
        env = envs[0]
    declared = getattr(getattr(env, "unwrapped", env), "headline", None)
    return declared if isinstance(declared, Headline) else RETURN


class RecentMetric:
    """The weighted mean of one metric over the last `window` values the training envs reported in
    info["metrics"] (weight: its "count", else 1): a supervised task's recent training accuracy, say."""

    def __init__(self, key: str, window: int = 100):
        self.key = key
        self._values: deque[tuple[float, float]] = deque(maxlen=window)

    def add(self, infos: list[dict[str, Any]]) -> None:
        """Takes the metric from one vector step's infos (envs that did not report it are skipped)."""
        for info in infos:
            metrics = info.get("metrics") if isinstance(info, dict) else None
            if metrics and self.key in metrics:
                self._values.append((float(metrics[self.key]), float(metrics.get("count", 1.0))))

    def mean(self) -> float | None:
        """The weighted mean, or None before any value."""
        weight = sum(w for _, w in self._values)
        return sum(v * w for v, w in self._values) / weight if weight > 0 else None


RETURN_KEYS = (
    "episodes",
    "return_mean",
    "return_std",
    "return_min",
    "return_max",
    "length_mean",
    "truncated",
)


def task_metrics(summary: dict[str, Any], headline: Headline) -> dict[str, float]:
    """The env's own metrics in an evaluation summary, besides the headline (e.g. bpc's perplexity)."""
    return {k: v for k, v in summary.items() if k not in RETURN_KEYS and k != headline.key}


def headline_line(summary: dict[str, Any], headline: Headline) -> str:
    """A supervised evaluation in words: 'bits per char 2.420 (perplexity 5.35, accuracy 0.412)'."""
    value = summary.get(headline.key)
    text = headline.format(value) if value is not None else f"{headline.name} not measured"
    others = ", ".join(f"{k} {float(v):.4g}" for k, v in task_metrics(summary, headline).items())
    return f"{text} ({others})" if others else text
