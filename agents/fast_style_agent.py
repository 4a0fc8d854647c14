"""The fast style transfer agent (book chapter 7): trains the transform network of rlkit.agents.fast_style
on a style task (rlkit.envs.style_photos), one Adam step per minibatch, as the book's train.py.

act() stylises the minibatch; update() takes one step on the perceptual loss (content + style + TV, CS231n's
normalisation) computed by a frozen loss network: a named backbone with the same weight sources as
agent=finetune (`backbone_weights` for torchvision's vgg16 file, the book's loss network; by default rlkit's
small_cnn pre-trained on digits 0-4). The style image comes from the env (info["style"]), so it is chosen in
one place, `env.kwargs.style=`. `rlkit play run=<run> input=<image>` writes the stylised image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces

from rlkit.agents.backbone_sources import pretrained_small_cnn, read_weights_file
from rlkit.agents.backbones import ARCHITECTURES, build_backbone, load_weights
from rlkit.agents.fast_style import StyleLoss, TransformNet
from rlkit.agents.model_agent import ModelCheckpointMixin
from rlkit.agents.style_transfer import STYLE_LAYERS
from rlkit.core.errors import IncompatibleError, UserError, check_ranges, describe_space
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext, Transition


@dataclass
class FastStyleConfig:
    """Settings of the fast style transfer agent (the book's conf/*.yml and CS231n's loss weights).

    Attributes:
        name: agent name (the `agent=` token).
        backbone: the loss network: small_cnn, squeezenet1_1 or vgg16 (the book's).
        backbone_weights: its weights, a torchvision-layout file (needed for squeezenet1_1 and vgg16).
        content_weight, style_weight, tv_weight: the loss's weights (style_weight scales CS231n's per-layer
            20000, 500, 12, 1).
        lr: Adam's learning rate (the book's 1e-3).
        residual_blocks: residual blocks of the transform network (the book's 5).
    """

    name: str = "fast_style"
    backbone: str = "small_cnn"
    backbone_weights: str | None = None
    content_weight: float = 5e-2
    style_weight: float = 1.0
    tv_weight: float = 5e-2
    lr: float = 1e-3
    residual_blocks: int = 5

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("backbone", self.backbone in ARCHITECTURES, f"one of {', '.join(ARCHITECTURES)}"),
            ("content_weight", self.content_weight >= 0, ">= 0"),
            ("style_weight", self.style_weight >= 0, ">= 0"),
            ("tv_weight", self.tv_weight >= 0, ">= 0"),
            ("lr", self.lr > 0, "> 0"),
            ("residual_blocks", self.residual_blocks >= 0, ">= 0"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


class FastStyleAgent(ModelCheckpointMixin):
    """A transform network trained against a frozen loss network; acts by stylising its observations.
    observe() and checkpoints (network, optimiser, update count, random stream): ModelCheckpointMixin's."""

    Config = FastStyleConfig
    model_name = "transform network"

    def __init__(self, cfg: FastStyleConfig, ctx: AgentContext):
        cfg.validate()
        obs, act = ctx.observation_space, ctx.action_space
        if not (
            isinstance(act, spaces.Box)
            and len(obs.shape) == 4
            and obs.shape == act.shape
            and obs.shape[1] == 3
        ):
            raise IncompatibleError(
                f"agent '{ctx.agent_name}' stylises RGB images and needs a style task (observation and "
                f"action (batch, 3, H, W)), but env '{ctx.env_name}' has {describe_space(obs)} -> "
                f"{describe_space(act)}. Use env=style_photos."
            )
        self.cfg, self.device = cfg, torch.device(ctx.device)
        self.rng = RandomStream(ctx.seed, self.device)
        with self.rng:
            self.model = TransformNet(cfg.residual_blocks).to(self.device)
            self.loss_net = build_backbone(cfg.backbone, 10).to(self.device)
        if cfg.backbone_weights:
            state = read_weights_file(cfg.backbone_weights)
        elif cfg.backbone == "small_cnn":
            state = pretrained_small_cnn()[0]
        else:
            raise UserError(
                f"agent.backbone={cfg.backbone} needs agent.backbone_weights=<torchvision's .pth file>"
            )
        load_weights(
            self.loss_net.net, state, [self.loss_net.head], cfg.backbone_weights or "rlkit's small_cnn"
        )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.updates, self.loss = 0, None
        self._batch: Transition | None = None

    def stylise(self, images: np.ndarray) -> np.ndarray:
        """uint8 (N, 3, H, W) images -> stylised float32 (N, 3, H, W) in [0, 1]."""
        self.model.eval()
        with torch.inference_mode():
            x = torch.as_tensor(np.asarray(images), device=self.device).float() / 255.0
            return self.model(x).cpu().numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """The stylised minibatch of each env: (num_envs, batch, 3, H, W)."""
        n = len(obs)
        return self.stylise(np.asarray(obs).reshape(-1, *obs.shape[2:])).reshape(n, *obs.shape[1:])

    def update(self) -> dict[str, float]:
        """One Adam step on the perceptual loss of the last observed minibatch."""
        tr, self._batch = self._batch, None
        if tr is None:
            return {}
        content = torch.as_tensor(
            np.concatenate([i["targets"][i["mask"]] for i in tr.info]), device=self.device
        )
        if self.loss is None:  # the style image arrives with the first minibatch
            c, styles = STYLE_LAYERS[self.cfg.backbone]
            weights = [self.cfg.style_weight * w for w in (20000.0, 500.0, 12.0, 1.0)]
            style = torch.as_tensor(tr.info[0]["style"], device=self.device)
            self.loss = StyleLoss(
                self.loss_net, style, c, styles, self.cfg.content_weight, weights, self.cfg.tv_weight
            )
        self.model.train()
        with self.rng:
            value = self.loss(self.model(content), content)
        self.optimizer.zero_grad(set_to_none=True)
        value.backward()
        self.optimizer.step()
        self.updates += 1
        return {"loss": float(value.detach())}
