"""The GAN agent's networks and losses (agents/gan.py): CS231n's MLP pair, a small DCGAN pair sized to the
image, the discriminator/generator losses of vanilla GAN, LSGAN and WGAN-GP, and the gradient penalty.

Losses take the discriminator's raw outputs (logits for vanilla, scores for LSGAN and WGAN-GP):

* vanilla (Goodfellow et al. 2014, non-saturating G): D minimises BCE(D(x), 1) + BCE(D(G(z)), 0),
  G minimises BCE(D(G(z)), 1) = -log sigmoid(D(G(z)));
* lsgan (Mao et al. 2017, as CS231n): D minimises 0.5 E[(D(x) - 1)^2] + 0.5 E[D(G(z))^2],
  G minimises 0.5 E[(D(G(z)) - 1)^2];
* wgan_gp (Gulrajani et al. 2017): the critic minimises E[D(G(z))] - E[D(x)] + gp_weight * GP,
  G minimises -E[D(G(z))]; GP = E[(||grad_x^ D(x^)||_2 - 1)^2] at x^ = eps x + (1 - eps) G(z), eps ~ U(0, 1).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LOSSES = ("vanilla", "lsgan", "wgan_gp")
ARCHS = ("mlp", "dcgan")


def d_loss(loss: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss (without WGAN-GP's penalty) on its outputs for real and generated samples."""
    if loss == "vanilla":
        return F.binary_cross_entropy_with_logits(
            real, torch.ones_like(real)
        ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    if loss == "lsgan":
        return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()
    return fake.mean() - real.mean()


def g_loss(loss: str, fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss on the discriminator's outputs for its samples."""
    if loss == "vanilla":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if loss == "lsgan":
        return 0.5 * ((fake - 1) ** 2).mean()
    return -fake.mean()


def d_update(
    opt: torch.optim.Optimizer, loss: torch.Tensor, real: torch.Tensor, fake: torch.Tensor
) -> dict[str, float]:
    """One optimiser step on a vanilla discriminator's loss; d_loss and the mean D probabilities (from the
    logits real and fake) as metrics."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {
        "d_loss": loss.item(),
        "d_real": torch.sigmoid(real).mean().item(),
        "d_fake": torch.sigmoid(fake).mean().item(),
    }


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP's E[(||grad D(x^)|| - 1)^2] at x^ = eps * real + (1 - eps) * fake; eps (N,), broadcast."""
    eps = eps.reshape(-1, *([1] * (real.dim() - 1)))
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


class MLPDiscriminator(nn.Module):
    """CS231n's discriminator: in-256-256-1, LeakyReLU(0.01)."""

    def __init__(self, shape: tuple[int, ...], hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(shape), hidden),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class MLPGenerator(nn.Module):
    """CS231n's generator: noise-1024-1024-out, ReLU, tanh for images (in [-1, 1]), linear for points."""

    def __init__(self, noise_dim: int, shape: tuple[int, ...], hidden: int = 1024, tanh: bool = True):
        super().__init__()
        self.shape = tuple(shape)
        layers = [nn.Linear(noise_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()]
        layers += [nn.Linear(hidden, math.prod(shape))] + ([nn.Tanh()] if tanh else [])
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).reshape(len(z), *self.shape)


class DCGANDiscriminator(nn.Module):
    """CS231n's DCGAN discriminator, sized to a (C, H, W) image (H, W divisible by 4): two stride-2 4x4
    convolutions (64, 128 channels) with LeakyReLU(0.01), then a linear score (no batch norm, so WGAN-GP's
    per-sample gradient penalty stays valid)."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        c, h, w = shape
        self.net = nn.Sequential(
            nn.Conv2d(c, 64, 4, 2, 1),
            nn.LeakyReLU(0.01),
            nn.Conv2d(64, 128, 4, 2, 1),
            nn.LeakyReLU(0.01),
            nn.Flatten(),
            nn.Linear(128 * (h // 4) * (w // 4), 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class DCGANGenerator(nn.Module):
    """CS231n's DCGAN generator, sized to a (C, H, W) image: noise -> 1024 -> 128 x H/4 x W/4 (batch norm,
    ReLU), then two stride-2 4x4 transposed convolutions up to (C, H, W), tanh."""

    def __init__(self, noise_dim: int, shape: tuple[int, ...]):
        super().__init__()
        c, h, w = shape
        self.start = (128, h // 4, w // 4)
        self.fc = nn.Sequential(
            nn.Linear(noise_dim, 1024),
            nn.ReLU(),
            nn.BatchNorm1d(1024),
            nn.Linear(1024, math.prod(self.start)),
            nn.ReLU(),
            nn.BatchNorm1d(math.prod(self.start)),
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, 2, 1),
            nn.ReLU(),
            nn.BatchNorm2d(64),
            nn.ConvTranspose2d(64, c, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.up(self.fc(z).reshape(len(z), *self.start))


def build_nets(
    arch: str, noise_dim: int, shape: tuple[int, ...], image: bool, g_hidden: int = 1024, d_hidden: int = 256
) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for samples of `shape`; `image`: in [-1, 1] (tanh output); the MLPs'
    hidden widths `g_hidden`, `d_hidden` (CS231n's 1024 and 256)."""
    if arch == "dcgan":
        return DCGANGenerator(noise_dim, shape), DCGANDiscriminator(shape)
    return MLPGenerator(noise_dim, shape, g_hidden, tanh=image), MLPDiscriminator(shape, d_hidden)
