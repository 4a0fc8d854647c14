"""What a trained classifier sees (CS231n assignment 3, network visualisation): saliency maps, fooling
images and class visualisation, on any image classifier (a rlkit.agents.backbones.Backbone, or any module
mapping images (N, C, H, W) to class scores).

Images are floats in [0, 1] (a Backbone normalises them itself), so a result is a picture as it is.
CS231n's steps (lr * g / ||g||_2) are taken in the ImageNet-normalised space (one unit = one standard
deviation, about 0.226 in [0, 1]) on 224x224x3 images. Fooling keeps CS231n's step length, converted to
[0, 1] units (x 0.226): it stops as soon as the target wins, so the step only sets how fast (a small CNN
on 8x8 digits is fooled in about 10-40 steps). The class visualisation, where the step is balanced against
the L2 penalty and the blur, moves each pixel as much as CS231n's does whatever the image's size: its rate
is rescaled by `step_scale` (0.226 * sqrt(pixels / 150,528); exactly CS231n's for 224x224 RGB). The
jitter is CS231n's 16 pixels, capped at a quarter of the side, so small images are not rolled around whole.
"""

from __future__ import annotations

import math

import torch
from torch import nn

IMAGENET_UNIT = 0.226  # ImageNet's mean standard deviation in [0, 1] pixels
CS231N_PIXELS = 3 * 224 * 224


def step_scale(shape: tuple[int, ...]) -> float:
    """The factor that turns CS231n's learning rates into steps on [0, 1] images of (C, H, W) `shape`."""
    return IMAGENET_UNIT * math.sqrt(math.prod(shape[-3:]) / CS231N_PIXELS)


def class_scores(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The unnormalised class scores of float images, the model in evaluation mode (no dropout)."""
    model.eval()
    return model(images)


def saliency_maps(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(N, H, W): per pixel, the largest |d score_label / d pixel| over the channels (Simonyan et al.)."""
    x = images.detach().clone().float().requires_grad_(True)
    scores = class_scores(model, x)
    scores.gather(1, labels.long().view(-1, 1)).sum().backward()
    return x.grad.abs().amax(dim=1)


def fooling_image(
    model: nn.Module, image: torch.Tensor, target: int, lr: float = 1.0, max_steps: int = 100
) -> tuple[torch.Tensor, int]:
    """(image the model classifies as `target`, steps taken): gradient ascent on the target's score with
    the step normalised, x += lr * g / ||g||_2 (lr in ImageNet-normalised units), stopping as soon as the
    model predicts the target (at most `max_steps`; check the prediction: a stubborn image may not get there).
    """
    x = image.detach().clone().float()[None]
    lr = lr * IMAGENET_UNIT
    for step in range(max_steps + 1):
        x.requires_grad_(True)
        scores = class_scores(model, x)
        if int(scores.argmax(dim=1)) == target or step == max_steps:
            return x.detach()[0], step
        (grad,) = torch.autograd.grad(scores[0, target], x)
        with torch.no_grad():
            x = x + lr * grad / grad.norm().clamp(min=1e-12)
    raise AssertionError("unreachable")


def gaussian_blur(images: torch.Tensor, sigma: float = 0.5) -> torch.Tensor:
    """Each channel blurred by a separable Gaussian of `sigma` pixels (scipy's gaussian_filter1d, radius
    4 sigma, reflected edges), as CS231n's blur_image."""
    radius = max(1, int(4 * sigma + 0.5))
    taps = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = images.shape[1]
    x = nn.functional.pad(images, (radius, radius, 0, 0), mode="reflect")
    x = nn.functional.conv2d(x, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    x = nn.functional.pad(x, (0, 0, radius, radius), mode="reflect")
    return nn.functional.conv2d(x, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def class_visualization(
    model: nn.Module,
    target: int,
    shape: tuple[int, int, int],
    steps: int = 100,
    lr: float = 25.0,
    l2_reg: float = 1e-3,
    blur_every: int = 10,
    max_jitter: int = 16,
    seed: int = 0,
) -> tuple[torch.Tensor, list[float]]:
    """(image, score per step): an image the model scores highly as `target`, from noise (CS231n's values).

    Each step rolls the image by a random jitter (at most `max_jitter`, capped at a quarter of the side),
    climbs S_target(I) - l2_reg * ||I||^2 by lr * g / ||g|| (lr rescaled by step_scale), rolls back, clips
    to [0, 1] and, every `blur_every` steps, blurs with sigma 0.5.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(1, *shape, generator=gen)
    limit = min(max_jitter, shape[1] // 4, shape[2] // 4)
    lr = lr * step_scale(shape)
    history = []
    for t in range(steps):
        ox, oy = (int(v) for v in torch.randint(-limit, limit + 1, (2,), generator=gen))
        x = torch.roll(x, shifts=(oy, ox), dims=(2, 3)).requires_grad_(True)
        score = class_scores(model, x)[0, target]
        objective = score - l2_reg * (x**2).sum()
        (grad,) = torch.autograd.grad(objective, x)
        with torch.no_grad():
            x = x + lr * grad / grad.norm().clamp(min=1e-12)
            x = torch.roll(x, shifts=(-oy, -ox), dims=(2, 3)).clamp(0.0, 1.0)
            if blur_every and (t + 1) % blur_every == 0:
                x = gaussian_blur(x, 0.5)
        history.append(float(score.detach()))
    return x[0], history


def normalise_map(m: torch.Tensor) -> torch.Tensor:
    """A map scaled to [0, 1] (all zeros stay zeros)."""
    m = m - m.min()
    return m / m.max() if float(m.max()) > 0 else m


def strip(images: list[torch.Tensor], scale: int = 1) -> torch.Tensor:
    """Images (C, H, W) (grey or RGB, values in [0, 1]) side by side as one uint8 RGB (H, W', 3) strip."""
    rgb = [img.expand(3, -1, -1) if img.shape[0] == 1 else img for img in images]
    row = torch.cat([nn.functional.pad(img, (1, 1, 1, 1), value=1.0) for img in rgb], dim=2)
    row = row.repeat_interleave(scale, 1).repeat_interleave(scale, 2)
    return (row.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0)


def auto_scale(side: int, target: int = 96) -> int:
    """The integer zoom that brings a `side`-pixel image to about `target` pixels."""
    return max(1, math.ceil(target / side))
