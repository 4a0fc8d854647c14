"""Slow (Gatys, CS231n's 200 Adam iterations on the image) against fast (Johnson's transform network, the
book's chapter 7) style transfer on the same content/style pair: the loss each reaches and the time per image.

Offline stand-ins: the loss network is rlkit's small_cnn pre-trained on digits 0-4 (the cached default
backbone; with torchvision's vgg16 file: --weights PATH --backbone vgg16), the content images are crops
of scikit-learn's bundled china.jpg (training crops from its left two thirds, the test image from its right
third) and the style image is its flower.jpg. Both use the same losses (rlkit.agents.style_transfer) and
layers; both run in this process, one torch thread. Writes benchmarks/figures/style_transfer.png
(content, style, slow, fast).

    .venv/bin/python benchmarks/style_transfer.py          # --size 32 --train-steps 100 [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from rlkit.agents.backbone_sources import pretrained_small_cnn, read_weights_file
from rlkit.agents.backbones import build_backbone, load_weights
from rlkit.agents.fast_style import StyleLoss, train_transform_net
from rlkit.agents.style_transfer import STYLE_LAYERS, style_transfer
from rlkit.agents.visualize import strip
from rlkit.envs.supervised import save_png


def photo(name: str) -> torch.Tensor:
    """A scikit-learn sample image as (3, H, W) floats in [0, 1]."""
    from sklearn.datasets import load_sample_image

    return torch.as_tensor(np.array(load_sample_image(name))).permute(2, 0, 1).float() / 255.0


def shrink(img: torch.Tensor, side: int) -> torch.Tensor:
    return torch.nn.functional.interpolate(img[None], size=(side, side), mode="area")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--train-steps", type=int, default=100)
    parser.add_argument("--backbone", default="small_cnn")
    parser.add_argument("--weights")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    net = build_backbone(args.backbone, 5 if args.backbone == "small_cnn" else 1000)
    state = read_weights_file(args.weights) if args.weights else pretrained_small_cnn()[0]
    load_weights(net.net, state, exclude=[net.head])
    content_layer, style_layers = STYLE_LAYERS[args.backbone]
    china, s = photo("china.jpg"), args.size
    china = torch.nn.functional.interpolate(china[None], scale_factor=4 * s / china.shape[1], mode="area")[0]
    split = china.shape[2] * 2 // 3
    rng = np.random.default_rng(0)
    tops, lefts = rng.integers(0, china.shape[1] - s, 256), rng.integers(0, split - s, 256)
    crops = torch.stack([china[:, t : t + s, x : x + s] for t, x in zip(tops, lefts)])
    content = china[:, china.shape[1] // 2 - s // 2 :][:, :s, split : split + s]
    style = shrink(photo("flower.jpg"), s)
    loss = StyleLoss(net, style, content_layer, style_layers)

    start = time.perf_counter()
    slow, slow_losses = style_transfer(net, content, style, content_layer, style_layers=style_layers)
    slow_time = time.perf_counter() - start
    start = time.perf_counter()
    fast_net, history = train_transform_net(loss, crops, args.train_steps)
    train_time = time.perf_counter() - start
    fast_net.eval()
    times = []
    with torch.no_grad():
        for _ in range(20):
            start = time.perf_counter()
            fast = fast_net(content[None])[0]
            times.append(time.perf_counter() - start)
    per_image = statistics.median(times)
    with torch.no_grad():
        losses = {name: float(loss(img[None], content[None])) for name, img in
                  {"content (no change)": content, "slow": slow, "fast": fast}.items()}  # fmt: skip
    rows = [
        f"| content image itself | {losses['content (no change)']:.1f} | - |",
        f"| slow (200 Adam iterations on the image) | {losses['slow']:.1f} | {slow_time:.2f} s |",
        f"| fast (one pass of the transform net) | {losses['fast']:.1f} | {per_image * 1000:.1f} ms |",
    ]
    trained = f"trained {args.train_steps} steps (batch 4) in {train_time:.1f} s"
    print(
        f"{args.backbone} loss network, {s}x{s} images; transform net {trained}, "
        f"loss {history[0]:.1f} -> {history[-1]:.1f}"
    )
    print("| method | style-transfer loss on the test image | time per image |\n|---|---:|---:|")
    print("\n".join(rows))
    print(f"fast / slow time per image: {per_image / slow_time:.5f} ({slow_time / per_image:.0f}x faster)")
    figure = Path(__file__).parent / "figures" / "style_transfer.png"
    save_png(strip([content, style, slow.detach(), fast], scale=4).numpy(), figure)
    print(f"Wrote {figure}")
    if args.out:
        args.out.write_text(
            json.dumps({"losses": losses, "slow_s": slow_time, "fast_s": per_image}, indent=1)
        )


if __name__ == "__main__":
    main()
