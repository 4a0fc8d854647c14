"""Fine-tuning a pre-trained backbone on a new image task (book chapter 3, TF-Slim's train_image_classifier).

The network is a named backbone (rlkit.agents.backbones: small_cnn, squeezenet1_1, vgg16, googlenet,
inception_v3) whose weights come from `backbone_weights` (a torchvision-layout file), `backbone_run` (an
earlier rlkit run), or, for small_cnn, rlkit's cached pre-training on digits 0-4
(rlkit.agents.backbone_sources); `pretrained=false` trains from scratch. The `exclude` scopes (default: the
head and any auxiliary heads, the book's --checkpoint_exclude_scopes) are not loaded and keep a fresh
initialisation; `train_layers=head` trains only the head (the book's
--trainable_scopes: every other parameter is frozen), `all` trains everything.

The optimiser is the book's: RMSProp, learning rate 1e-3, weight decay 4e-5, with TF-Slim's decay 0.9,
momentum 0.9 and epsilon 1.0 (TF puts epsilon inside the square root, torch outside; with epsilon 1.0 both
make small steps on small gradients, which is the point of Slim's large epsilon).
Training, acting, checkpoints: rlkit.agents.supervised.SupervisedAgent's, on this network.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from rlkit.agents.backbone_sources import pretrained_small_cnn, read_weights_file, run_network
from rlkit.agents.backbones import ARCHITECTURES, build_backbone, load_weights
from rlkit.agents.supervised import SupervisedAgent, task_shapes
from rlkit.core.errors import IncompatibleError, UserError, check_ranges
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext, Transition

TRAIN_LAYERS = ("head", "all")
OPTIMIZERS = ("rmsprop", "adam", "sgd")


@dataclass
class FinetuneConfig:
    """Settings of the fine-tuning agent.

    Attributes:
        name: agent name (the `agent=` token).
        backbone: small_cnn, squeezenet1_1, vgg16, googlenet or inception_v3 (a backbone_run brings its own).
        backbone_weights: a state_dict file in torchvision's layout (e.g. squeezenet1_1-b8a52dc0.pth).
        backbone_run: an rlkit run directory whose network is the starting point.
        pretrained: false trains from scratch (no weights loaded).
        train_layers: head (only the head trains, the rest is frozen) or all.
        exclude: parameter scopes not loaded (re-initialised); empty: the backbone's head.
        optimizer: rmsprop (the book's), adam or sgd.
        lr, weight_decay, momentum: the optimiser's (1e-3, 4e-5, 0.9: the book's).
        rmsprop_decay, eps: RMSProp's smoothing (TF's decay 0.9) and epsilon (Slim's 1.0).
        grad_clip: clip the gradient's global norm to this (None: no clipping).
    """

    name: str = "finetune"
    backbone: str = "small_cnn"
    backbone_weights: str | None = None
    backbone_run: str | None = None
    pretrained: bool = True
    train_layers: str = "head"
    exclude: list[str] = field(default_factory=list)
    optimizer: str = "rmsprop"
    lr: float = 1e-3
    weight_decay: float = 4e-5
    momentum: float = 0.9
    rmsprop_decay: float = 0.9
    eps: float = 1.0
    grad_clip: float | None = None

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("backbone", self.backbone in ARCHITECTURES, f"one of {', '.join(ARCHITECTURES)}"),
            ("train_layers", self.train_layers in TRAIN_LAYERS, f"one of {', '.join(TRAIN_LAYERS)}"),
            ("optimizer", self.optimizer in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
            ("lr", self.lr > 0, "> 0"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
            ("momentum", 0 <= self.momentum < 1, "in [0, 1)"),
            ("rmsprop_decay", 0 <= self.rmsprop_decay < 1, "in [0, 1)"),
            ("eps", self.eps > 0, "> 0"),
            ("grad_clip", self.grad_clip is None or self.grad_clip > 0, "> 0 or null"),
            ("backbone_run", not (self.backbone_run and self.backbone_weights), "null with backbone_weights"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


class FinetuneAgent(SupervisedAgent):
    """A pre-trained backbone with a new head, trained (head only or whole) on the task's targets."""

    Config = FinetuneConfig

    @property
    def model_name(self) -> str:
        """The backbone's name (for messages)."""
        return self.model.name

    def __init__(self, cfg: FinetuneConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg, self.device = cfg, torch.device(ctx.device)
        self.kind, obs_shape, out_shape = task_shapes(ctx)
        if self.kind != "classification" or len(obs_shape) != 3:
            raise IncompatibleError(
                f"agent '{ctx.agent_name}' fine-tunes an image classifier and needs an image classification "
                f"task (images (channels, H, W), one label each), but env '{ctx.env_name}' has observations "
                f"{obs_shape} and outputs {out_shape}. Use env=image_folder or env=digits."
            )
        self.rng = RandomStream(ctx.seed, self.device)
        with self.rng:
            self.model, self.source = self._build(obs_shape, out_shape[-1])
        self.model.to(self.device)
        self._check_size(obs_shape, ctx.env_name)
        self.trainable = self._freeze()
        self.optimizer = self._optimizer([p for _, p in self.model.named_parameters() if p.requires_grad])
        self.updates = 0
        self._batch: Transition | None = None
        self._forward: tuple[np.ndarray, torch.Tensor] | None = None

    def _build(self, obs_shape: tuple[int, ...], n: int) -> tuple[torch.nn.Module, str]:
        """(network, where its weights came from): a fresh backbone with the chosen weights loaded."""
        cfg = self.cfg
        if cfg.backbone_run and cfg.pretrained:
            model, state = run_network(cfg.backbone_run, obs_shape, n)
            source = f"run {cfg.backbone_run}"
        else:
            if cfg.pretrained and not cfg.backbone_weights and cfg.backbone != "small_cnn":
                raise UserError(
                    f"agent.backbone={cfg.backbone} has no weights rlkit can make: give "
                    "agent.backbone_weights=<torchvision's .pth file>, agent.backbone_run=<run dir>, or "
                    "agent.pretrained=false to train it from scratch"
                )
            model = build_backbone(cfg.backbone, n, obs_shape[0])
            if not cfg.pretrained:
                return model, "none (from scratch)"
            if cfg.backbone_weights:
                state, source = read_weights_file(cfg.backbone_weights), cfg.backbone_weights
            else:
                state, path = pretrained_small_cnn()
                source = f"rlkit's small_cnn pre-trained on digits 0-4 ({path})"
        load_weights(model.net, state, self.exclude_scopes(model), source)
        return model, source

    def _check_size(self, obs_shape: tuple[int, ...], env_name: str) -> None:
        """Raises IncompatibleError, in one line, when the backbone cannot take the env's image size."""
        self.model.eval()
        try:
            with torch.inference_mode():
                self.model(torch.zeros(1, *obs_shape, device=self.device))
        except RuntimeError as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise IncompatibleError(
                f"agent.backbone={self.model.name} cannot take env '{env_name}''s "
                f"{obs_shape[1]}x{obs_shape[2]} images ({first}); use larger images "
                "(env.kwargs.image_size=) or agent.backbone=small_cnn"
            ) from err

    def exclude_scopes(self, model: torch.nn.Module) -> list[str]:
        """The scopes kept freshly initialised: agent.exclude, or the backbone's head (and aux heads)."""
        return list(self.cfg.exclude) or [model.head, *getattr(model, "aux_heads", ())]

    def _freeze(self) -> list[str]:
        """Freezes everything but the head when train_layers=head; returns the trainable parameters' names."""
        head = set(self.model.head_parameters())
        for name, p in self.model.named_parameters():
            p.requires_grad_(self.cfg.train_layers == "all" or name in head)
        return [name for name, p in self.model.named_parameters() if p.requires_grad]

    def _optimizer(self, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
        cfg = self.cfg
        if cfg.optimizer == "rmsprop":
            return torch.optim.RMSprop(
                params, lr=cfg.lr, alpha=cfg.rmsprop_decay, eps=cfg.eps,
                weight_decay=cfg.weight_decay, momentum=cfg.momentum,
            )  # fmt: skip
        if cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)

    def scores(self, images: np.ndarray) -> np.ndarray:
        """The class scores (logits) of a batch of images (N, C, H, W), in evaluation mode."""
        self.model.eval()
        with torch.inference_mode():
            return self.model(torch.as_tensor(np.asarray(images), device=self.device)).float().cpu().numpy()
