"""The supervised agent: a torch model chosen by name, trained on the targets a supervised task env reveals.

It plugs into the one runner like any agent (see rlkit.envs.supervised for the env side): act() predicts
for the minibatch in the observation (argmax of the logits for classification, the values for regression),
observe() keeps the step's batch and the targets from `info`, update() takes one optimiser step on the
masked loss and returns {"loss", "accuracy"} (train/...); the accuracy is a rlkit.core.lazy.LazyMetric,
computed only for the updates whose metrics the runner logs. While training (explore=True) act() runs the
model in training mode and keeps its output, so update() backpropagates through that same forward pass
instead of running a second one; greedy acting (evaluation) runs in eval mode (no dropout) under
inference_mode. Models without random layers run without the RandomStream swap. With num_envs > 1 the
minibatches of all envs are concatenated into one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np
import torch
from gymnasium import spaces

from rlkit.agents.model_agent import (
    ModelCheckpointMixin,
    flat_batch,
    masked_cross_entropy,
    masked_mean,
    masked_mse,
)
from rlkit.agents.supervised_models import INITS, MODELS, draws_random
from rlkit.core.errors import IncompatibleError, check_ranges, describe_space
from rlkit.core.lazy import LazyMetric
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext, Transition

OPTIMIZERS = ("sgd", "adam")


@dataclass
class SupervisedConfig:
    """Hyperparameters of the supervised agent.

    Attributes:
        name: agent name (the `agent=` token).
        model: softmax_regression, mlp, mnist_cnn or lstm_classifier (agents/supervised_models.py).
        optimizer: sgd or adam.
        lr: learning rate (> 0).
        momentum: SGD momentum in [0, 1).
        weight_decay: L2 penalty (>= 0).
        hidden: width of the model's hidden layer (CNN's FC layer, LSTM units, MLP layers).
        dropout: dropout probability in [0, 1) where the model has dropout (the CNN).
        grad_clip: clip the gradient's global norm to this (None: no clipping).
        init: torch (PyTorch's default initialisation) or book (lstm_classifier only: the initialisation of
            the book's TensorFlow example, which its plain-SGD recipe needs; see agents/supervised_models.py).
    """

    name: str = "softmax_regression"
    model: str = "softmax_regression"
    optimizer: str = "sgd"
    lr: float = 0.5
    momentum: float = 0.0
    weight_decay: float = 0.0
    hidden: int = 64
    dropout: float = 0.0
    grad_clip: float | None = None
    init: str = "torch"

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        book_ok = self.init != "book" or self.model == "lstm_classifier"
        checks = [
            ("model", self.model in MODELS, f"one of {', '.join(MODELS)}"),
            ("init", self.init in INITS, f"one of {', '.join(INITS)}"),
            ("init", book_ok, "torch for this model (init=book exists for model lstm_classifier only)"),
            ("optimizer", self.optimizer in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
            ("lr", self.lr > 0, "> 0"),
            ("momentum", 0 <= self.momentum < 1, "in [0, 1)"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
            ("hidden", self.hidden >= 1, ">= 1"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("grad_clip", self.grad_clip is None or self.grad_clip > 0, "> 0 or null"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


def task_shapes(ctx: AgentContext) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """(kind, one example's observation shape, the model's output shape) of a supervised task env."""
    obs, act = ctx.observation_space, ctx.action_space
    fits = (
        isinstance(obs, spaces.Box)
        and len(obs.shape) >= 2
        and isinstance(act, spaces.MultiDiscrete | spaces.Box)
    )
    fits = fits and len(act.shape) >= 1 and act.shape[0] == obs.shape[0]
    if isinstance(act, spaces.MultiDiscrete) and fits:
        fits = bool(np.all(act.nvec == act.nvec.flat[0]))
    if not fits:
        raise IncompatibleError(
            f"agent '{ctx.agent_name}' is supervised and needs a supervised task env (observation: a "
            f"minibatch Box (batch, ...); action: one prediction per example, MultiDiscrete or Box "
            f"(batch, ...)), but env '{ctx.env_name}' has observation space {describe_space(obs)} and action "
            f"space {describe_space(act)}. Use env=digits, mnist or toy_sequences, or an RL agent for this "
            "env."
        )
    if isinstance(act, spaces.MultiDiscrete):
        return "classification", tuple(obs.shape[1:]), (*act.shape[1:], int(act.nvec.flat[0]))
    return "regression", tuple(obs.shape[1:]), tuple(act.shape[1:])


def batch_accuracy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None) -> float:
    """Share of the real examples whose every prediction (argmax of logits (N, ..., C)) is right."""
    hit = (logits.argmax(-1) == targets).reshape(len(logits), -1).all(dim=1)
    return masked_mean(hit, mask)


class SupervisedAgent(ModelCheckpointMixin):
    """A named model trained by one optimiser step per minibatch on the revealed targets."""

    Config = SupervisedConfig  # the schema of the agent YAMLs whose _target_ is this class

    @property
    def model_name(self) -> str:
        """The model's config name (for messages)."""
        return self.cfg.model

    def __init__(self, cfg: SupervisedConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg, self.device = cfg, torch.device(ctx.device)
        self.kind, obs_shape, out_shape = task_shapes(ctx)
        self.rng = RandomStream(ctx.seed, self.device)  # initialisation and dropout draw from it
        pixels = ctx.observation_space.dtype == np.uint8
        with self.rng:
            self.model = MODELS[cfg.model](obs_shape, out_shape, cfg, pixels).to(self.device)
        params = self.model.parameters()
        if cfg.optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        else:
            self.optimizer = torch.optim.SGD(
                params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
            )
        self.updates = 0
        self._batch: Transition | None = None
        self._forward: tuple[np.ndarray, torch.Tensor] | None = None  # (obs, output) of the last training act

    @cached_property
    def _draws(self) -> bool:
        """Whether the model has random layers; without, the forward pass needs no stream swap. Worked out on
        first use, so subclasses that build their own model (FinetuneAgent) get it too."""
        return draws_random(self.model)

    def _output(self, obs: np.ndarray) -> torch.Tensor:
        """The model's output for (num_envs, batch, ...) observations, as (num_envs * batch, ...)."""
        x = flat_batch(obs, self.device)
        if not self._draws:
            return self.model(x)
        with self.rng:
            return self.model(x)

    def _predict(self, out: torch.Tensor) -> torch.Tensor:
        return out.argmax(dim=-1) if self.kind == "classification" else out

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Predictions for each env's minibatch: (num_envs, batch, ...)."""
        n, b = obs.shape[:2]
        pred = self._act_with(obs, explore, self._predict).cpu().numpy()
        return pred.reshape(n, b, *pred.shape[1:])

    def update(self) -> dict[str, float]:
        """One optimiser step on the masked loss of the last observed minibatch."""
        tr, out, targets, mask = self._take_batch(none_if_full=True)
        if tr is None:
            return {}
        if self.kind == "classification":
            loss = masked_cross_entropy(out, targets.long(), mask)
            # computed only if the runner reads it (the update before a log line): ten small ops saved a step.
            # targets are a copy (np.concatenate), so an env that reuses its arrays cannot change the value.
            metrics = {"accuracy": LazyMetric(partial(batch_accuracy, out.detach(), targets, mask))}
        else:
            loss, metrics = masked_mse(out, targets.float(), mask), {}
        return {"loss": self._step(loss, self.cfg.grad_clip), **metrics}
