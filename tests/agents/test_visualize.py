"""CS231n's network visualisation on a small CNN trained here: fooling images reach their target, saliency."""

from __future__ import annotations

import pytest
import torch

from rlkit.agents.backbone_sources import digits_subset
from rlkit.agents.backbones import build_backbone
from rlkit.agents.visualize import class_visualization, fooling_image, gaussian_blur, saliency_maps, strip


@pytest.fixture(scope="module")
def digits_cnn():
    """small_cnn trained on all ten 8x8 digits for 150 Adam steps (about 0.9 accuracy on held-out rows)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        images, labels = digits_subset(tuple(range(10)))
        x, y = torch.as_tensor(images).float() / 255.0, torch.as_tensor(labels)
        torch.manual_seed(0)
        model = build_backbone("small_cnn", 10, in_channels=1)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        gen = torch.Generator().manual_seed(0)
        for _ in range(150):
            rows = torch.randint(0, 1500, (64,), generator=gen)
            loss = torch.nn.functional.cross_entropy(model.train()(x[rows]), y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        held_out = (model(x[1500:]).argmax(1) == y[1500:]).float().mean()
        assert held_out > 0.8, float(held_out)
        yield model, x[1500:1510], y[1500:1510]
    finally:
        torch.set_num_threads(threads)


def test_fooling_images_reach_their_target(digits_cnn) -> None:
    model, images, labels = digits_cnn
    for img, label in zip(images, labels.tolist()):
        target = (label + 3) % 10
        fooled, steps = fooling_image(model, img, target)
        assert int(model(fooled[None]).argmax()) == target and steps < 100
        assert steps > 0 and float((fooled - img).abs().max()) > 0
        assert torch.equal(fooling_image(model, img, int(model(img[None]).argmax()))[0], img)  # 0 steps


def test_saliency_is_the_gradient_magnitude(digits_cnn) -> None:
    model, images, labels = digits_cnn
    maps = saliency_maps(model, images[:3], labels[:3])
    assert maps.shape == (3, 8, 8) and float(maps.min()) >= 0 and float(maps.max()) > 0
    x = images[:1].clone().requires_grad_(True)
    model(x)[0, labels[0]].backward()
    torch.testing.assert_close(maps[0], x.grad[0].abs().amax(0))


def test_class_visualisation_raises_the_score(digits_cnn) -> None:
    model, _, _ = digits_cnn
    img, scores = class_visualization(model, 3, (1, 8, 8))  # CS231n: 100 steps
    assert img.shape == (1, 8, 8) and float(img.min()) >= 0 and float(img.max()) <= 1
    assert scores[-1] > scores[0] + 1.0
    assert int(model(img[None]).argmax()) == 3


def test_blur_keeps_constants_and_strip_shapes() -> None:
    flat = torch.full((1, 3, 6, 7), 0.3)
    torch.testing.assert_close(gaussian_blur(flat), flat)
    dot = torch.zeros(1, 1, 9, 9)
    dot[0, 0, 4, 4] = 1.0
    blurred = gaussian_blur(dot)
    assert float(blurred.sum()) == pytest.approx(1.0) and float(blurred[0, 0, 4, 4]) < 1.0
    assert strip([torch.zeros(1, 4, 4), torch.ones(3, 4, 4)], scale=2).shape == (12, 24, 3)
