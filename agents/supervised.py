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

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces

from rlkit.agents.supervised_models import INITS, MODELS, draws_random
from rlkit.core.errors import IncompatibleError, UserError, check_ranges, describe_space
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


def masked_sum_mean(per_example: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of per_example (N,) over the rows where mask (N,) is 1; mask None: every row is real, and the sum
    is divided by the count as a device tensor (a Python number lets CUDA multiply by its reciprocal): bit for
    bit an all-ones mask's loss and gradient, four ops fewer forward and backward (~100 us a softmax step)."""
    if mask is None:
        return per_example.sum() / row_count(len(per_example), per_example.device)
    return (per_example * mask).sum() / mask.sum().clamp(min=1)


@lru_cache(maxsize=64)
def row_count(n: int, device: torch.device) -> torch.Tensor:
    """A float32 scalar tensor holding n, made once per size and device."""
    return torch.tensor(float(n), device=device)


def masked_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """Mean cross-entropy over the real examples; logits (N, ..., C), targets (N, ...), mask (N,) or None."""
    per_entry = F.cross_entropy(logits.flatten(0, -2), targets.flatten(), reduction="none")
    if per_entry.shape[0] != len(logits):  # several entries per example: their mean (one entry: itself)
        per_entry = per_entry.reshape(len(logits), -1).mean(dim=1)
    return masked_sum_mean(per_entry, mask)


def masked_mse(pred: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean squared error over the real examples; pred and targets (N, ...), mask (N,) or None."""
    per_example = ((pred - targets) ** 2).reshape(len(pred), -1).mean(dim=1)
    return masked_sum_mean(per_example, mask)


def host_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """torch.as_tensor(array, device=device); on a CPU through from_numpy (as_tensor's device= costs 2-3x)."""
    if device.type == "cpu" and isinstance(array, np.ndarray):
        try:
            return torch.from_numpy(array)  # shares the memory, as as_tensor does
        except (TypeError, ValueError):  # a dtype or negative strides from_numpy refuses
            pass
    return torch.as_tensor(array, device=device)


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


def masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> float:
    """Mean of `values` over the rows where mask is 1 (0 when there are none; mask None: every row)."""
    return float(masked_sum_mean(values.float(), mask))


def batch_accuracy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None) -> float:
    """Share of the real examples whose every prediction (argmax of logits (N, ..., C)) is right."""
    hit = (logits.argmax(-1) == targets).reshape(len(logits), -1).all(dim=1)
    return masked_mean(hit, mask)


class ModelCheckpointMixin:
    """observe, batch taking and checkpoints for agents holding `model`, `optimizer`, `updates`, `device`,
    `model_name`, `_output(obs)` and `_forward` (act's cached (obs, output) pair)."""

    def observe(self, transition: Transition) -> None:
        """Keeps the step's minibatch; its targets and mask are in transition.info."""
        self._batch = transition

    def _take_batch(self, none_if_full: bool = False) -> tuple[Any, Any, Any, Any]:
        """(transition, model output, targets, mask) of the last observed minibatch, or Nones. The output of
        act()'s training-mode forward pass is reused when it was on this very batch. With `none_if_full`, the
        mask is None when every row is real (what the masked_* functions take)."""
        tr, self._batch = self._batch, None
        if tr is None:
            return None, None, None, None
        if self._forward is not None and self._forward[0] is tr.obs:
            out = self._forward[1]
        else:  # observe() got a batch this agent did not act on: run the forward pass now
            self.model.train()
            out = self._output(tr.obs)
        self._forward = None
        dev = self.device
        targets = host_tensor(np.concatenate([i["targets"] for i in tr.info]), dev)
        rows = np.concatenate([i["mask"] for i in tr.info]) if len(tr.info) > 1 else tr.info[0]["mask"]
        if none_if_full and rows.all():
            return tr, out, targets, None
        return tr, out, targets, torch.as_tensor(rows, device=dev, dtype=torch.float32)

    def _step(self, loss: torch.Tensor, grad_clip: float | None = None) -> float:
        """One optimiser step on `loss` (gradient norm clipped to `grad_clip`); returns the loss, or raises
        UserError when it is not finite."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), grad_clip)
        self.optimizer.step()
        self.updates += 1
        value = float(loss.detach())
        if not math.isfinite(value):
            raise UserError(
                f"the loss became {value} after {self.updates} updates: lower agent.lr={self.cfg.lr}"
            )
        return value

    def state_dict(self) -> dict[str, Any]:
        """Model and optimiser state, the update count (and the agent's RandomStream `rng`, if it has one)."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "updates": self.updates,
        }
        if isinstance(getattr(self, "rng", None), RandomStream):
            state["torch_rng"] = self.rng.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state_dict(); refuses one of another model (shape, vocabulary, width or depth)."""
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as err:
            raise UserError(f"checkpoint does not fit model '{self.model_name}': {err}") from err
        self.optimizer.load_state_dict(state["optimizer"])
        self.updates = int(state["updates"])
        if "torch_rng" in state and isinstance(getattr(self, "rng", None), RandomStream):
            self.rng.load_state_dict(state["torch_rng"])


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
        obs = np.asarray(obs)
        x = host_tensor(obs.reshape(-1, *obs.shape[2:]), self.device)
        if not self._draws:
            return self.model(x)
        with self.rng:
            return self.model(x)

    def _predict(self, out: torch.Tensor) -> torch.Tensor:
        return out.argmax(dim=-1) if self.kind == "classification" else out

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Predictions for each env's minibatch: (num_envs, batch, ...)."""
        n, b = obs.shape[:2]
        if explore:
            if not self.model.training:  # train() walks every module: 10 us a step for nothing
                self.model.train()
            out = self._output(obs)
            self._forward = (obs, out)
            pred = self._predict(out.detach())
        else:
            self.model.eval()
            with torch.inference_mode():
                pred = self._predict(self._output(obs))
        pred = pred.cpu().numpy()
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
