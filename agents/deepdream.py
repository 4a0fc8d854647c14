"""DeepDream (book chapter 4, after TensorFlow's DeepDream tutorial) on a backbone's feature channel.

Gradient ascent on the input to raise the mean activation of one channel of `features[layer]`:
`render_naive` (20 steps, the gradient divided by its std, step 1.0); `render_multiscale` (3 octaves,
scale 1.4: the image grows between octaves); `render_lapnorm` (the gradient normalised per Laplacian-
pyramid band, lap_n 4); `render_deepdream` (4 octaves, step 1.5: detail carried between octaves through
the high-frequency part, the step divided by the gradient's mean |g|). Gradients are computed on tiles of
`tile_size` pixels after a random circular shift (undone after), as the book's calc_grad_tiled, so large
images fit in memory and tile seams do not show. Images here are floats (C, H, W) in [0, 255] around the
book's start (uniform noise + 100), and the network sees them through the backbone's preprocessing.
Where the book takes the mean of each tile, this takes the sum over the tile's positions, so tiled and
whole-image gradients agree (the std / mean-|g| normalisations that follow remove any scale), and the tiles
cover the whole image (the book's loop leaves up to half a tile at the bottom and right edge without gradient
in each step).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

_K = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
K5X5 = torch.outer(_K, _K) / torch.outer(_K, _K).sum()  # the tutorial's Laplacian-pyramid kernel


def _kernel(c: int, dtype: torch.dtype) -> torch.Tensor:
    return K5X5.to(dtype).expand(c, 1, 5, 5).contiguous()


def _upsample(lo: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """conv2d_transpose of `lo` with 4 * K5X5, stride 2, to the spatial size of `like`."""
    c, (h, w) = lo.shape[1], like.shape[-2:]
    pad = (h - (2 * lo.shape[-2] - 1), w - (2 * lo.shape[-1] - 1))
    return nn.functional.conv_transpose2d(
        lo, _kernel(c, lo.dtype) * 4, stride=2, padding=2, output_padding=pad, groups=c
    )


def lap_split(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(low, high) of (N, C, H, W) images: low = blur + stride 2, high = img - upsample(low)."""
    lo = nn.functional.conv2d(img, _kernel(img.shape[1], img.dtype), stride=2, padding=2, groups=img.shape[1])
    return lo, img - _upsample(lo, img)


def lap_split_n(img: torch.Tensor, n: int) -> list[torch.Tensor]:
    """The n-level Laplacian pyramid, coarsest first: [low, high_n, ..., high_1]."""
    levels = []
    for _ in range(n):
        img, hi = lap_split(img)
        levels.append(hi)
    return [img, *levels[::-1]]


def lap_merge(levels: list[torch.Tensor]) -> torch.Tensor:
    """The image a lap_split_n pyramid came from."""
    img = levels[0]
    for hi in levels[1:]:
        img = _upsample(img, hi) + hi
    return img


def lap_normalize(grad: torch.Tensor, scale_n: int = 4, eps: float = 1e-10) -> torch.Tensor:
    """Each pyramid band divided by its root-mean-square, then merged (the tutorial's lap_normalize)."""
    levels = lap_split_n(grad, scale_n)
    return lap_merge([b / torch.sqrt((b**2).mean()).clamp(min=eps) for b in levels])


def channel_objective(
    backbone: nn.Module, layer: int, channel: int | None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """score(img (1, C, H, W) in 0-255) = sum over positions of features[layer]'s `channel` (all channels'
    squares when None: the tutorial's tf.square(layer) objective)."""

    def score(img: torch.Tensor) -> torch.Tensor:
        x = backbone.preprocess(img / 255.0)
        for i, module in enumerate(backbone.net.features):
            x = module(x)
            if i == layer:
                break
        return (x[:, channel] if channel is not None else x**2).sum()

    return score


def tiled_gradient(
    score: Callable[[torch.Tensor], torch.Tensor], img: torch.Tensor, tile_size: int, rng: np.random.Generator
) -> torch.Tensor:
    """d score / d img of (C, H, W), computed tile by tile on the image rolled by a random shift."""
    c, h, w = img.shape
    sx, sy = (int(v) for v in rng.integers(0, tile_size, 2))
    shifted = torch.roll(img, shifts=(sy, sx), dims=(1, 2))
    grad = torch.zeros_like(img)
    for y in range(0, h, tile_size):  # the book stops at h - tile_size / 2, leaving a strip without gradient
        for x in range(0, w, tile_size):
            tile = shifted[None, :, y : y + tile_size, x : x + tile_size].clone().requires_grad_(True)
            (g,) = torch.autograd.grad(score(tile), tile)
            grad[:, y : y + tile_size, x : x + tile_size] = g[0]
    return torch.roll(grad, shifts=(-sy, -sx), dims=(1, 2))


def resize(img: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(C, H, W) resized bilinearly to `size` (H, W)."""
    return nn.functional.interpolate(img[None], size=size, mode="bilinear", align_corners=False)[0]


def _ascend(
    score: Callable[[torch.Tensor], torch.Tensor],
    img: torch.Tensor,
    iter_n: int,
    tile_size: int,
    rng: np.random.Generator,
    move: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    scores: list[float],
    report: Callable[[float], None] | None = None,
) -> torch.Tensor:
    """`iter_n` steps img = move(img, tiled gradient); the mean score after each is appended to `scores`
    (and given to `report`)."""
    for _ in range(iter_n):
        img = move(img, tiled_gradient(score, img, tile_size, rng))
        with torch.no_grad():
            scores.append(float(score(img[None])) / img[0].numel())
        if report:
            report(scores[-1])
    return img


def render(
    score: Callable[[torch.Tensor], torch.Tensor],
    img: torch.Tensor,
    iter_n: int = 20,
    step: float = 1.0,
    octave_n: int = 1,
    octave_scale: float = 1.4,
    lap_n: int = 0,
    tile_size: int = 512,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> tuple[torch.Tensor, list[float]]:
    """(image, score after each step): naive (octave_n 1, lap_n 0), multiscale (octave_n 3), lapnorm
    (lap_n 4): the gradient normalised (Laplacian bands, else its std) and added `step` times."""
    rng, scores = np.random.default_rng(seed), []
    img = img.clone().float()

    def move(img: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        g = lap_normalize(g[None], lap_n)[0] if lap_n else g / (g.std() + 1e-8)
        return img + g * step

    def report(mean_score: float) -> None:
        if log:
            log(f"octave {octave + 1}/{octave_n}: score (mean) = {mean_score:.6f}")

    for octave in range(octave_n):
        if octave > 0:
            h, w = img.shape[-2:]
            img = resize(img, (int(h * octave_scale), int(w * octave_scale)))
        img = _ascend(score, img, iter_n, tile_size, rng, move, scores, report)
    return img, scores


def render_deepdream(
    score: Callable[[torch.Tensor], torch.Tensor],
    img: torch.Tensor,
    iter_n: int = 10,
    step: float = 1.5,
    octave_n: int = 4,
    octave_scale: float = 1.4,
    tile_size: int = 512,
    seed: int = 0,
) -> tuple[torch.Tensor, list[float]]:
    """The full DeepDream: octaves from small to the full size, each keeping the detail it added (the
    high-frequency part of the image), steps normalised by mean |g|, pixels clipped to [0, 255]."""
    rng, scores = np.random.default_rng(seed), []
    octaves, img = [], img.clone().float()

    def move(img: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return (img + g * (step / (g.abs().mean() + 1e-7))).clamp(0, 255)

    for _ in range(octave_n - 1):
        h, w = img.shape[-2:]
        lo = resize(img, (max(1, int(h / octave_scale)), max(1, int(w / octave_scale))))
        octaves.append(img - resize(lo, (h, w)))
        img = lo
    for octave in range(octave_n):
        if octave > 0:
            hi = octaves[-octave]
            img = resize(img, hi.shape[-2:]) + hi
        img = _ascend(score, img, iter_n, tile_size, rng, move, scores)
    return img, scores
