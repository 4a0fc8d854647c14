"""Slow style transfer (Gatys et al.; CS231n assignment 3, book chapter 7's "original" method) on a backbone.

The losses are CS231n's: content loss w_c * sum((F - P)^2) at one layer; style loss sum_l w_l *
sum((G(F_l) - A_l)^2) with the Gram matrix G = F F^T normalised by H*W*C; total variation w_t * the sum of
squared differences of vertically and horizontally adjacent pixels. `style_transfer` optimises the image
itself with Adam, CS231n's schedule: lr 3.0, 0.1 from iteration 180, 200 iterations, the image clamped to
[-1.5, 1.5] (normalised units) before iteration 190. Content weight 0 gives texture synthesis, style
weight 0 feature inversion. Layers are indices into the backbone's `features` (CS231n's SqueezeNet
values are the defaults: content 3, style 1, 4, 6, 7 with weights 20000, 500, 12, 1).
The fast (Johnson) transform network: rlkit.agents.fast_style.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# backbone -> (content layer, style layers), indices into its `features`: CS231n's for SqueezeNet; the book's
# chapter 7 layers for VGG-16 (content relu3_3; style relu1_2, relu2_2, relu3_3, relu4_3); small_cnn's ReLUs
STYLE_LAYERS = {
    "squeezenet1_1": (3, (1, 4, 6, 7)),
    "vgg16": (15, (3, 8, 15, 22)),
    "small_cnn": (3, (1, 3, 6, 8)),
}


def layer_features(backbone: nn.Module, x: torch.Tensor, layers: Sequence[int]) -> dict[int, torch.Tensor]:
    """The activations after the backbone's `features[i]` for each i in `layers`, of normalised input x."""
    out, wanted = {}, set(layers)
    for i, layer in enumerate(backbone.net.features):
        x = layer(x)
        if i in wanted:
            out[i] = x
        if len(out) == len(wanted):
            break
    return out


def gram_matrix(features: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """(N, C, C) Gram matrices F F^T of (N, C, H, W) features, divided by H*W*C when `normalize`."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    gram = f @ f.transpose(1, 2)
    return gram / (h * w * c) if normalize else gram


def content_loss(weight: float, current: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """weight * sum((current - original)^2)."""
    return weight * ((current - original) ** 2).sum()


def style_loss(
    feats: dict[int, torch.Tensor],
    layers: Sequence[int],
    targets: Sequence[torch.Tensor],
    weights: Sequence[float],
) -> torch.Tensor:
    """sum_i weights[i] * sum((gram(feats[layers[i]]) - targets[i])^2)."""
    return sum(w * ((gram_matrix(feats[i]) - t) ** 2).sum() for i, t, w in zip(layers, targets, weights))


def tv_loss(img: torch.Tensor, weight: float) -> torch.Tensor:
    """weight * (sum of squared vertical + horizontal neighbour differences) of (N, C, H, W) images."""
    down = ((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2).sum()
    right = ((img[:, :, :, 1:] - img[:, :, :, :-1]) ** 2).sum()
    return weight * (down + right)


def style_transfer(
    backbone: nn.Module,
    content: torch.Tensor,
    style: torch.Tensor,
    content_layer: int = 3,
    content_weight: float = 5e-2,
    style_layers: Sequence[int] = (1, 4, 6, 7),
    style_weights: Sequence[float] = (20000.0, 500.0, 12.0, 1.0),
    tv_weight: float = 5e-2,
    iterations: int = 200,
    init_random: bool = False,
    seed: int = 0,
) -> tuple[torch.Tensor, list[float]]:
    """(image in [0, 1] (C, H, W), loss per iteration): `content` (C, H, W) in [0, 1] painted in the style
    of `style` (C, H', W'), with CS231n's schedule (see the module docstring)."""
    backbone.eval()
    for p in backbone.parameters():
        p.requires_grad_(False)
    layers = sorted({content_layer, *style_layers})
    with torch.no_grad():
        target_content = layer_features(backbone, backbone.preprocess(content[None]), [content_layer])
        style_feats = layer_features(backbone, backbone.preprocess(style[None]), style_layers)
        targets = [gram_matrix(style_feats[i]) for i in style_layers]
        start = backbone.preprocess(content[None])
        if init_random:
            gen = torch.Generator().manual_seed(seed)
            start = backbone.preprocess(torch.rand(start.shape, generator=gen))
    img = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([img], lr=3.0)
    losses = []
    for t in range(iterations):
        if t < 190:
            with torch.no_grad():
                img.clamp_(-1.5, 1.5)
        if t == 180:
            opt.param_groups[0]["lr"] = 0.1
        feats = layer_features(backbone, img, layers)
        loss = content_loss(content_weight, feats[content_layer], target_content[content_layer])
        loss = loss + style_loss(feats, style_layers, targets, style_weights) + tv_loss(img, tv_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    with torch.no_grad():
        out = img[0] * backbone.std[0] + backbone.mean[0]
    return out.clamp(0, 1), losses
