"""Network building blocks shared by the deep agents (DQN, REINFORCE) and the supervised pixel tasks.

Torsos map an observation to a feature vector; heads are added by each agent. Pixel observations arrive as
uint8 (frames, H, W) stacks and are scaled to [0, 1] inside the network, so they stay uint8 until then.
The CNNs are the two in the book's chapter 20 (carpedm20/deep-rl-tensorflow): "nips" (Mnih et al. 2013) and
"nature" (Mnih et al. 2015).
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rlkit.core.errors import IncompatibleError, describe_space

TORSOS = ("auto", "mlp", "nature", "nips")


def mlp(in_dim: int, out_dim: int, hidden: Sequence[int] = (64, 64), bias: bool = True) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    dims = [in_dim, *hidden, out_dim]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ScaledInput(nn.Module):
    """Casts uint8 pixels to float in [0, 1] (other dtypes just to float) before the wrapped module."""

    def __init__(self, body: nn.Module, scale: bool):
        super().__init__()
        self.body, self.scale = body, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        return self.body(x / 255.0 if self.scale else x)


def nature_cnn(in_channels: int, height: int, width: int) -> tuple[nn.Module, int]:
    """Nature DQN: conv 32x8x8/4, 64x4x4/2, 64x3x3/1, FC 512. Returns (module, feature size)."""
    conv = nn.Sequential(
        nn.Conv2d(in_channels, 32, 8, stride=4), nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
        nn.Flatten(),
    )  # fmt: skip
    return _with_fc(conv, in_channels, height, width, 512)


def nips_cnn(in_channels: int, height: int, width: int) -> tuple[nn.Module, int]:
    """NIPS 2013 DQN: conv 16x8x8/4, 32x4x4/2, FC 256. Returns (module, feature size)."""
    conv = nn.Sequential(
        nn.Conv2d(in_channels, 16, 8, stride=4), nn.ReLU(),
        nn.Conv2d(16, 32, 4, stride=2), nn.ReLU(),
        nn.Flatten(),
    )  # fmt: skip
    return _with_fc(conv, in_channels, height, width, 256)


def _with_fc(conv: nn.Module, c: int, h: int, w: int, features: int) -> tuple[nn.Module, int]:
    with torch.no_grad():
        flat = conv(torch.zeros(1, c, h, w)).shape[1]
    return nn.Sequential(conv, nn.Linear(flat, features), nn.ReLU()), features


def is_pixel_space(space: gym.Space) -> bool:
    """uint8 boxes of rank 3 (frames/channels, H, W) are treated as images."""
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


def build_torso(
    obs_space: gym.Space, kind: str = "auto", hidden: Sequence[int] = (64, 64), agent: str = "agent"
) -> tuple[nn.Module, int]:
    """A feature extractor for `obs_space`: a CNN for pixels, an MLP for vectors. Returns (module, size).

    kind: auto (nature CNN for pixels, MLP otherwise), mlp, nature or nips.
    """
    if kind not in TORSOS:
        raise ValueError(f"network '{kind}' is unknown; valid networks: {', '.join(TORSOS)}")
    if not isinstance(obs_space, gym.spaces.Box):
        raise IncompatibleError(
            f"{agent} needs a Box observation space (vectors or images), got {describe_space(obs_space)}"
        )
    pixels = is_pixel_space(obs_space)
    if kind == "auto":
        kind = "nature" if pixels else "mlp"
    if kind in ("nature", "nips"):
        if len(obs_space.shape) != 3:
            raise IncompatibleError(
                f"network '{kind}' needs (channels, H, W) observations, got {describe_space(obs_space)}"
            )
        body, size = (nature_cnn if kind == "nature" else nips_cnn)(*obs_space.shape)
        return ScaledInput(body, scale=pixels), size
    in_dim = int(np.prod(obs_space.shape))
    body = nn.Sequential(nn.Flatten(), mlp(in_dim, hidden[-1], hidden[:-1])) if hidden else nn.Flatten()
    if hidden:
        body = nn.Sequential(body, nn.ReLU())
    return ScaledInput(body, scale=pixels), (hidden[-1] if hidden else in_dim)
