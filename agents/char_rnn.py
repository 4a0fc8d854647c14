"""The book's chapter 12 Char-RNN: a multi-layer LSTM over one-hot characters, trained on next-char targets.

It plugs into the runner like the supervised agent (rlkit.agents.supervised) on a character task env
(rlkit.envs.char_text): act() returns log-probabilities of the next character at every position of every
window ((num_envs, batch, num_steps, vocab)); update() takes one optimiser step on the masked cross-entropy
with the targets from `info` and reports loss (nats), bpc and next-char accuracy. While training, act() keeps
its forward pass for update(); greedy acting runs in eval mode (no dropout) under inference_mode. Each window
starts from a zero LSTM state (the book carries the state across the windows of a stream; not done here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from rlkit.agents.model_agent import ModelCheckpointMixin, flat_batch, masked_mean, masked_sum_mean
from rlkit.core.errors import IncompatibleError, check_ranges, describe_space
from rlkit.core.lazy import LazyMetric
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext, Transition


@dataclass
class CharRNNConfig:
    """Hyperparameters of the Char-RNN agent (the book's defaults for Shakespeare).

    Attributes:
        name: agent name (the `agent=` token).
        hidden: LSTM units per layer (the book's lstm_size 128).
        num_layers: stacked LSTM layers (2).
        dropout: dropout on each layer's output while training (the book's keep_prob 0.5), in [0, 1).
        lr: Adam learning rate (0.01 for Shakespeare).
        grad_clip: clip the gradient's global norm to this (the book's 5; None: no clipping).
    """

    name: str = "char_rnn"
    hidden: int = 128
    num_layers: int = 2
    dropout: float = 0.5
    lr: float = 0.01
    grad_clip: float | None = 5.0

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("hidden", self.hidden >= 1, ">= 1"),
            ("num_layers", self.num_layers >= 1, ">= 1"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("lr", self.lr > 0, "> 0"),
            ("grad_clip", self.grad_clip is None or self.grad_clip > 0, "> 0 or null"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


class CharRNN(nn.Module):
    """One-hot characters -> `num_layers` LSTM layers with dropout -> log-probabilities of the next char."""

    def __init__(self, vocab: int, hidden: int, num_layers: int, dropout: float):
        super().__init__()
        self.vocab = vocab
        self.lstm = nn.LSTM(vocab, hidden, num_layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (N, T) int -> log-probabilities (N, T, vocab)."""
        out, _ = self.lstm(F.one_hot(ids.long(), self.vocab).float())
        return F.log_softmax(self.head(self.drop(out)), dim=-1)


def masked_nll(logp: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean negative log-likelihood per char over the real rows; logp (N, T, V), targets (N, T), mask (N,)
    or None (every row real)."""
    nll = -logp.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1).mean(dim=1)
    return masked_sum_mean(nll, mask)


def char_vocab(ctx: AgentContext) -> int:
    """The vocabulary size of a character task env; IncompatibleError for any other env."""
    obs, act = ctx.observation_space, ctx.action_space
    fits = (
        isinstance(obs, spaces.Box)
        and isinstance(act, spaces.Box)
        and len(obs.shape) == 2
        and len(act.shape) == 3
        and act.shape[:2] == obs.shape
        and np.issubdtype(obs.dtype, np.integer)
    )
    if not fits:
        raise IncompatibleError(
            f"agent '{ctx.agent_name}' needs a character task env (observation: char ids (batch, num_steps); "
            f"action: log-probabilities (batch, num_steps, vocab)), but env '{ctx.env_name}' has observation "
            f"space {describe_space(obs)} and action space {describe_space(act)}. Use env=char_text."
        )
    return int(act.shape[2])


def char_accuracy(logp: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None) -> float:
    """Mean over the real windows of the share of characters whose argmax is the next one."""
    return masked_mean((logp.argmax(-1) == targets).float().mean(dim=1), mask)


class CharRNNAgent(ModelCheckpointMixin):
    """A Char-RNN trained by one Adam step per minibatch of windows on the revealed next characters."""

    Config = CharRNNConfig  # the schema of the agent YAMLs whose _target_ is this class

    model_name = "char_rnn"

    def __init__(self, cfg: CharRNNConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg, self.device = cfg, torch.device(ctx.device)
        vocab = char_vocab(ctx)
        self.rng = RandomStream(ctx.seed, self.device)  # initialisation and dropout draw from it
        with self.rng:
            self.model = CharRNN(vocab, cfg.hidden, cfg.num_layers, cfg.dropout).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.updates = 0
        self._batch: Transition | None = None
        self._forward: tuple[np.ndarray, torch.Tensor] | None = None

    def _output(self, obs: np.ndarray) -> torch.Tensor:
        with self.rng:
            return self.model(flat_batch(obs, self.device))

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Log-probabilities of the next char: (num_envs, batch, num_steps, vocab) float32."""
        n, b = obs.shape[:2]
        logp = self._act_with(obs, explore, lambda out: out.float().cpu().numpy())
        return logp.reshape(n, b, *logp.shape[1:])

    def update(self) -> dict[str, float]:
        """One Adam step on the masked cross-entropy; returns loss (nats/char), bpc and accuracy."""
        tr, out, targets, mask = self._take_batch(none_if_full=True)
        if tr is None:
            return {}
        loss = masked_nll(out, targets, mask)
        value = self._step(loss, self.cfg.grad_clip)
        accuracy = LazyMetric(partial(char_accuracy, out.detach(), targets, mask))  # only if it is logged
        return {"loss": value, "bpc": value / math.log(2), "accuracy": accuracy}
