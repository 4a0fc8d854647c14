"""REINFORCE's config dataclass: every hyperparameter, what it means and its valid range (see validate())."""

from __future__ import annotations

from dataclasses import dataclass, field

from rlkit.agents.networks import TORSOS
from rlkit.core.errors import check_ranges

NORMALIZE = ("none", "episode", "batch")


@dataclass
class ReinforceConfig:
    """Hyperparameters of REINFORCE (defaults: a modern set-up for CartPole-v1).

    Attributes:
        name: always reinforce.
        lr: Adam learning rate (policy and value networks).
        gamma: discount in [0, 1].
        batch_episodes: whole episodes per gradient step (the book: 5).
        network: torso: auto (nature CNN for pixels, MLP otherwise), mlp, nature or nips.
        hidden: hidden layer sizes of the MLP (the book: [10]).
        bias: biases in the MLP layers and the heads (the book's network has none).
        normalize_returns: none, episode (each episode's returns, as the book) or batch.
        baseline: learn a value network V(s) and use G_t - V(s_t) as the advantage.
        bootstrap_truncated: with the baseline, truncated episodes' returns get gamma^k V(final obs).
        value_coef: weight of the value loss (mean squared error against the returns).
        entropy_coef: weight of the entropy bonus.
        max_grad_norm: clip the gradient's global norm to this (None: no clipping).
        log_std_init: initial log standard deviation of the Gaussian policy (Box actions).
    """

    name: str = "reinforce"
    lr: float = 1e-3
    gamma: float = 0.99
    batch_episodes: int = 5
    network: str = "auto"
    hidden: list[int] = field(default_factory=lambda: [64, 64])
    bias: bool = True
    normalize_returns: str = "batch"
    baseline: bool = True
    bootstrap_truncated: bool = True
    value_coef: float = 0.5
    entropy_coef: float = 0.0
    max_grad_norm: float | None = None
    log_std_init: float = 0.0

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("name", self.name == "reinforce", "reinforce"),
            ("lr", self.lr > 0.0, "> 0"),
            ("gamma", 0.0 <= self.gamma <= 1.0, "in [0, 1]"),
            ("batch_episodes", self.batch_episodes >= 1, ">= 1"),
            ("network", self.network in TORSOS, f"one of {', '.join(TORSOS)}"),
            ("hidden", all(h >= 1 for h in self.hidden), "a list of sizes >= 1"),
            ("normalize_returns", self.normalize_returns in NORMALIZE, f"one of {', '.join(NORMALIZE)}"),
            ("value_coef", self.value_coef >= 0.0, ">= 0"),
            ("entropy_coef", self.entropy_coef >= 0.0, ">= 0"),
            ("max_grad_norm", self.max_grad_norm is None or self.max_grad_norm > 0.0, "> 0 or null"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))
