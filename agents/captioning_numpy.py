"""CS231n's numpy CaptioningRNN (rlkit.agents.captioning_rnn) as an agent of a captioning task env: the
assignment's model trained by the assignment's update rules, through the runner.

The assignment feeds pre-extracted CNN features: `env=coco_captions env.kwargs.features=...h5` gives them
as the assignment ships them (VGG-16 fc7, PCA'd to 512), read as they are. On picture envs there is no
pretrained CNN offline, so the features are the image's pixels scaled to [0, 1] and flattened (the
projection W_proj learns from them, as a one-layer encoder). act() samples greedily (the assignment's
`sample`), update() takes one SGD or Adam step on the real rows of the last minibatch, the caption revealed
in `info` being the target (``<s>`` prepended).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rlkit.agents.captioning import caption_shapes
from rlkit.agents.captioning_rnn import CELLS, CaptioningRNN, adam, sgd, train_step
from rlkit.core.errors import check_ranges
from rlkit.core.tokens import BOS
from rlkit.core.types import AgentContext, Transition

RULES = {"adam": adam, "sgd": sgd}
DTYPES = {"float32": np.float32, "float64": np.float64}


@dataclass
class CaptioningRNNConfig:
    """Hyperparameters of the numpy captioning agent (the assignment's names).

    Attributes:
        name: agent name (the `agent=` token).
        cell: rnn or lstm.
        wordvec_dim: word vector size.
        hidden_dim: hidden units.
        update_rule: adam or sgd (the assignment's optim.py).
        learning_rate: the update rule's step size.
        dtype: float32, or float64 (as for gradient checks).
    """

    name: str = "captioning_rnn"
    cell: str = "lstm"
    wordvec_dim: int = 128
    hidden_dim: int = 128
    update_rule: str = "adam"
    learning_rate: float = 0.005
    dtype: str = "float32"

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("cell", self.cell in CELLS, f"one of {', '.join(CELLS)}"),
            ("wordvec_dim", self.wordvec_dim >= 1, ">= 1"),
            ("hidden_dim", self.hidden_dim >= 1, ">= 1"),
            ("update_rule", self.update_rule in RULES, f"one of {', '.join(RULES)}"),
            ("learning_rate", self.learning_rate > 0, "> 0"),
            ("dtype", self.dtype in DTYPES, f"one of {', '.join(DTYPES)}"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


class CaptioningRNNAgent:
    """The numpy CaptioningRNN on pixel features, one update per minibatch."""

    Config = CaptioningRNNConfig  # the schema of the agent YAMLs whose _target_ is this class

    def __init__(self, cfg: CaptioningRNNConfig, ctx: AgentContext):
        cfg.validate()
        vocab, self.answer_len = caption_shapes(ctx)
        self.cfg, self.dtype = cfg, DTYPES[cfg.dtype]
        pixels = math.prod(ctx.observation_space.shape[1:])
        self.model = CaptioningRNN(vocab, pixels, cfg.wordvec_dim,
                                   cfg.hidden_dim, cfg.cell, self.dtype, seed=ctx.seed)  # fmt: skip
        self.configs: dict[str, dict] = {}
        self.updates = 0
        self._batch: Transition | None = None

    def features(self, obs: np.ndarray) -> np.ndarray:
        """Images (num_envs, batch, ...) -> (num_envs * batch, pixels) in [0, 1]; feature vectors as given."""
        x = np.asarray(obs)
        flat = x.reshape(x.shape[0] * x.shape[1], -1)
        return (flat / 255.0 if x.dtype == np.uint8 else flat).astype(self.dtype)

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Greedy captions of each env's minibatch: (num_envs, batch, answer_len)."""
        n, b = obs.shape[:2]
        return self.model.sample(self.features(obs), self.answer_len).reshape(n, b, -1)

    def observe(self, transition: Transition) -> None:
        """Keeps the step's minibatch; its captions and mask are in transition.info."""
        self._batch = transition

    def update(self) -> dict[str, float]:
        """One update on the real rows of the last minibatch; loss is per caption, as the assignment's."""
        tr, self._batch = self._batch, None
        if tr is None:
            return {}
        rows = np.concatenate([i["mask"] for i in tr.info])
        targets = np.concatenate([i["targets"] for i in tr.info])[rows]
        captions = np.concatenate([np.full((len(targets), 1), BOS), targets], axis=1)
        for config in self.configs.values():
            config["learning_rate"] = self.cfg.learning_rate
        rule = RULES[self.cfg.update_rule]
        loss = train_step(self.model, self.features(tr.obs)[rows], captions, rule, self.configs)
        self.updates += 1
        return {"loss": loss}

    def state_dict(self) -> dict[str, Any]:
        """Parameters and the update rule's moments, as tensors (checkpoints hold no pickled objects)."""
        tensors = lambda d: {k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v  # noqa: E731
                             for k, v in d.items()}  # fmt: skip
        return {
            "params": tensors(self.model.params),
            "configs": {name: tensors(c) for name, c in self.configs.items()},
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state_dict()."""
        arrays = lambda d: {k: v.numpy().copy() if torch.is_tensor(v) else v for k, v in d.items()}  # noqa: E731
        self.model.params = arrays(state["params"])
        self.configs = {name: arrays(c) for name, c in state["configs"].items()}
        self.updates = int(state["updates"])
