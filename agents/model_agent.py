"""What the torch agents of supervised-style tasks share: masked losses over a minibatch's real rows, arrays
to tensors, and ModelCheckpointMixin (observe, act's kept forward pass, one optimiser step, checkpoints).

Used by the supervised agent (agents/supervised.py) and the task agents built the same way (char_rnn,
word2vec, seq2seq, detector, embedding, fast_style). A task env pads the last minibatch of an epoch and
reveals a mask (rlkit.envs.supervised): the losses here average over the real rows only; a mask of None means
every row is real.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rlkit.core.errors import UserError
from rlkit.core.seeding import RandomStream
from rlkit.core.types import Transition


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


def flat_batch(obs: np.ndarray, device: torch.device) -> torch.Tensor:
    """(num_envs, batch, ...) observations as one (num_envs * batch, ...) tensor on `device` (host_tensor)."""
    obs = np.asarray(obs)
    return host_tensor(obs.reshape(-1, *obs.shape[2:]), device)


def masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> float:
    """Mean of `values` over the entries where mask (of values' shape, or (N,) rows) is 1 (0 when there are
    none; mask None: every row)."""
    return float(masked_sum_mean(values.float(), mask))


class ModelCheckpointMixin:
    """observe, batch taking and checkpoints for agents holding `model`, `optimizer`, `updates`, `device`,
    `model_name`, `_output(obs)` and `_forward` (act's cached (obs, output) pair)."""

    def observe(self, transition: Transition) -> None:
        """Keeps the step's minibatch; its targets and mask are in transition.info."""
        self._batch = transition

    def _act_with(self, obs: np.ndarray, explore: bool, answer: Callable[[torch.Tensor], Any]) -> Any:
        """`answer` of the model's output for act(). Training (explore): train mode, and the forward pass is
        kept for update() to backpropagate through (answer gets it detached); greedy: eval mode (no dropout)
        under inference_mode."""
        if not explore:
            self.model.eval()
            with torch.inference_mode():
                return answer(self._output(obs))
        if not self.model.training:  # train() walks every module: 10 us a step for nothing
            self.model.train()
        out = self._output(obs)
        self._forward = (obs, out)
        return answer(out.detach())

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
        return tr, out, *self._revealed(tr, none_if_full)

    def _revealed(self, tr: Transition, none_if_full: bool = False) -> tuple[torch.Tensor, Any]:
        """(targets, float mask of real rows) a minibatch's info reveals, all envs' concatenated; with
        `none_if_full`, the mask is None when every row is real."""
        targets = host_tensor(np.concatenate([i["targets"] for i in tr.info]), self.device)
        rows = np.concatenate([i["mask"] for i in tr.info]) if len(tr.info) > 1 else tr.info[0]["mask"]
        if none_if_full and rows.all():
            return targets, None
        return targets, torch.as_tensor(rows, device=self.device, dtype=torch.float32)

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
