"""DeepDream's and style transfer's pieces against hand-computed values, and short smoke runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rlkit.agents.backbones import Backbone, Classifier, build_backbone
from rlkit.agents.deepdream import (
    channel_objective,
    lap_merge,
    lap_normalize,
    lap_split,
    lap_split_n,
    render,
    render_deepdream,
    tiled_gradient,
)
from rlkit.agents.style_transfer import content_loss, gram_matrix, layer_features, style_transfer, tv_loss


def tiny_backbone(kernel: int, padding_mode: str = "zeros") -> Backbone:
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, kernel, padding=kernel // 2, padding_mode=padding_mode)
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    return Backbone(
        "tiny", Classifier(nn.Sequential(conv, nn.Tanh()), head), "classifier.2", (0.5,) * 3, (0.5,) * 3
    )


def test_gram_matrix_is_symmetric_and_normalised() -> None:
    feats = torch.randn(2, 5, 3, 4)
    gram = gram_matrix(feats)
    torch.testing.assert_close(gram, gram.transpose(1, 2))
    f = feats[0].reshape(5, 12)
    torch.testing.assert_close(gram[0], f @ f.T / (3 * 4 * 5))
    assert torch.allclose(gram_matrix(torch.ones(1, 4, 2, 3)), torch.full((1, 4, 4), 0.25))  # H*W / (H*W*C)
    torch.testing.assert_close(gram_matrix(feats, normalize=False)[0], f @ f.T)


def test_tv_and_content_losses_by_hand() -> None:
    assert float(tv_loss(torch.full((1, 3, 5, 6), 0.7), 1.0)) == 0.0
    img = torch.zeros(1, 1, 2, 2)
    img[0, 0, 0, 0] = 1.0  # two neighbours differ by 1: one below, one to the right
    assert float(tv_loss(img, 0.5)) == pytest.approx(0.5 * 2)
    x = torch.randn(1, 8, 4, 4)
    assert float(content_loss(3.0, x, x)) == 0.0
    assert float(content_loss(2.0, x + 1, x)) == pytest.approx(2.0 * x.numel())


@pytest.mark.parametrize("size", [(17, 23), (16, 16), (5, 9)])
def test_laplacian_split_then_merge_gives_the_image_back(size) -> None:
    img = torch.randn(1, 3, *size, dtype=torch.float64)
    lo, hi = lap_split(img)
    assert lo.shape[-2:] == ((size[0] + 1) // 2, (size[1] + 1) // 2) and hi.shape == img.shape
    levels = lap_split_n(img, 3)
    assert len(levels) == 4 and levels[-1].shape == img.shape
    torch.testing.assert_close(lap_merge(levels), img)
    flat = torch.full((1, 3, *size), 2.0, dtype=torch.float64)
    normed = lap_normalize(img, 3)
    assert normed.shape == img.shape and torch.isfinite(lap_normalize(flat, 3)).all()


def test_tiled_gradient_equals_the_untiled_one() -> None:
    rng = np.random.default_rng(0)
    img = torch.rand(3, 12, 12) * 255
    whole = img[None].clone().requires_grad_(True)
    score = channel_objective(tiny_backbone(3, "circular"), layer=1, channel=2)
    (expected,) = torch.autograd.grad(score(whole), whole)
    for _ in range(3):  # one tile bigger than the image, rolled by a random shift: circular padding commutes
        torch.testing.assert_close(tiled_gradient(score, img, 32, rng), expected[0])
    pointwise = channel_objective(tiny_backbone(1), layer=1, channel=0)  # 1x1 convs: any tiling is exact
    whole = img[None].clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(pointwise(whole), whole)
    torch.testing.assert_close(tiled_gradient(pointwise, img, 5, rng), expected[0])


def test_dreams_raise_their_score() -> None:
    net = build_backbone("small_cnn", 5)
    score = channel_objective(net, layer=3, channel=7)
    start = torch.from_numpy(np.random.default_rng(0).uniform(size=(3, 24, 24)) + 100.0).float()
    _, naive = render(score, start, iter_n=6, tile_size=16)
    assert naive[-1] > naive[0]
    lapnorm, scores = render(score, start, iter_n=3, octave_n=2, lap_n=2, tile_size=16)
    assert lapnorm.shape == (3, 33, 33) and len(scores) == 6  # 24 * 1.4
    dream, deep = render_deepdream(score, start, iter_n=3, octave_n=2, tile_size=16)
    assert (
        dream.shape == start.shape
        and deep[-1] > deep[0]
        and 0 <= float(dream.min()) <= float(dream.max()) <= 255
    )


def test_style_transfer_runs_cs231ns_schedule() -> None:
    torch.set_num_threads(1)  # tiny convolutions on shared cores; conftest restores the count
    torch.manual_seed(0)
    net = build_backbone("small_cnn", 5)
    content, style = torch.rand(3, 16, 16), torch.rand(3, 16, 16)
    layers = {"content_layer": 3, "style_layers": (1, 3), "style_weights": (1e3, 1e2)}
    out, losses = style_transfer(net, content, style, **layers, iterations=30)
    assert out.shape == content.shape and losses[-1] < losses[0] / 3  # lr 3.0 overshoots first, then falls
    feats = layer_features(net, net.preprocess(content[None]), [1, 3])
    assert sorted(feats) == [1, 3] and feats[3].shape[1] == 32


def test_fast_transform_net_keeps_the_size_and_learns() -> None:
    from rlkit.agents.fast_style import StyleLoss, TransformNet, train_transform_net

    torch.set_num_threads(1)  # conftest restores the count
    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 20)
    out = TransformNet(residual_blocks=1)(x).detach()
    assert out.shape == x.shape and float(out.min()) >= 0 and float(out.max()) <= 1
    net = TransformNet()
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in net.modules()) == 0  # upsample + conv instead
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in net.modules()) == 3 + 5 * 2 + 2 + 1
    loss = StyleLoss(
        build_backbone("small_cnn", 5), torch.rand(3, 16, 16), 3, (1, 3), style_weights=(1e3, 1e2)
    )
    _, history = train_transform_net(loss, torch.rand(8, 3, 16, 16), steps=4, batch_size=2)
    assert history[-1] < history[0]
