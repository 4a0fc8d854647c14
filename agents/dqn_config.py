"""DQN's config dataclass: every hyperparameter, what it means and its valid range (see validate())."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from rlkit.agents.networks import TORSOS
from rlkit.core.errors import check_ranges

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class DQNConfig:
    """Hyperparameters of DQN (defaults: RL Zoo / CleanRL Atari settings). All periods count env steps.

    Attributes:
        name: always dqn.
        network: torso: auto (nature CNN for pixels, MLP otherwise), mlp, nature or nips.
        hidden: MLP hidden sizes (vector observations only).
        dueling: dueling head V + A - mean A.
        double: double DQN target (online net picks a', target net values it).
        n_step: return horizon of the TD target (1: classic DQN).
        prioritized: proportional prioritised replay (Schaul et al. 2016).
        priority_alpha: how strongly priorities skew sampling (0: uniform).
        priority_beta: importance-weight exponent at the start, annealed to 1 over priority_beta_steps.
        priority_beta_steps: env steps of that annealing (0: beta stays constant).
        gamma: discount.
        lr: learning rate.
        optimizer: adam or rmsprop.
        optimizer_eps: the optimiser's epsilon.
        loss: huber or mse.
        max_grad_norm: gradient-norm clipping (None: no clipping).
        batch_size: transitions per gradient step.
        buffer_size: replay capacity in transitions.
        learning_starts: env steps of collection before the first update.
        train_freq: env steps between rounds of gradient steps.
        gradient_steps: gradient steps per round.
        target_update_every: env steps between target updates.
        tau: target update rate (1: hard copy, <1: Polyak averaging).
        epsilon_start: exploration rate at step 0.
        epsilon_final: exploration rate after epsilon_decay_steps.
        epsilon_decay_steps: env steps of the linear decay.
        precision: fp32, bf16 or fp16 (autocast with fp32 master weights; fp16 uses a gradient scaler).
            bf16 runs where the hardware has it (CUDA, CPUs with AVX-512 BF16 / AMX), else fp32.
        save_replay: include the replay buffer in checkpoints.
    """

    name: str = "dqn"
    network: str = "auto"
    hidden: list[int] = field(default_factory=lambda: [256, 256])
    dueling: bool = False
    double: bool = False
    n_step: int = 1
    prioritized: bool = False
    priority_alpha: float = 0.6
    priority_beta: float = 0.4
    priority_beta_steps: int = 0
    gamma: float = 0.99
    lr: float = 1e-4
    optimizer: str = "adam"
    optimizer_eps: float = 1e-8
    loss: str = "huber"
    max_grad_norm: float | None = 10.0
    batch_size: int = 32
    buffer_size: int = 100_000
    learning_starts: int = 80_000
    train_freq: int = 4
    gradient_steps: int = 1
    target_update_every: int = 1_000
    tau: float = 1.0
    epsilon_start: float = 1.0
    epsilon_final: float = 0.01
    epsilon_decay_steps: int = 1_000_000
    precision: str = "fp32"
    save_replay: bool = False

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("network", self.network in TORSOS, f"one of {', '.join(TORSOS)}"),
            ("hidden", all(h >= 1 for h in self.hidden), "a list of sizes >= 1"),
            ("n_step", self.n_step >= 1, ">= 1"),
            ("priority_alpha", self.priority_alpha >= 0.0, ">= 0"),
            ("priority_beta", 0.0 <= self.priority_beta <= 1.0, "in [0, 1]"),
            ("priority_beta_steps", self.priority_beta_steps >= 0, ">= 0"),
            ("gamma", 0.0 <= self.gamma <= 1.0, "in [0, 1]"),
            ("lr", self.lr > 0.0, "> 0"),
            ("optimizer", self.optimizer in ("adam", "rmsprop"), "one of adam, rmsprop"),
            ("optimizer_eps", self.optimizer_eps > 0.0, "> 0"),
            ("loss", self.loss in ("huber", "mse"), "one of huber, mse"),
            ("max_grad_norm", self.max_grad_norm is None or self.max_grad_norm > 0, "> 0 or null"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("buffer_size", self.buffer_size >= self.batch_size, ">= batch_size"),
            ("learning_starts", self.learning_starts >= 0, ">= 0"),
            ("train_freq", self.train_freq >= 1, ">= 1"),
            ("gradient_steps", self.gradient_steps >= 1, ">= 1"),
            ("target_update_every", self.target_update_every >= 1, ">= 1"),
            ("tau", 0.0 < self.tau <= 1.0, "in (0, 1]"),
            ("epsilon_start", 0.0 <= self.epsilon_start <= 1.0, "in [0, 1]"),
            ("epsilon_final", 0.0 <= self.epsilon_final <= 1.0, "in [0, 1]"),
            ("epsilon_decay_steps", self.epsilon_decay_steps >= 0, ">= 0"),
            ("precision", self.precision in PRECISIONS, f"one of {', '.join(PRECISIONS)}"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))
