"""The backbones side by side: parameters, and CPU time per image at each one's ImageNet input size.

For each of rlkit.agents.backbones' ImageNet architectures (squeezenet1_1, vgg16, googlenet, inception_v3):
parameter count (all; the head's), then in one process, the architectures alternating within each repeat,
the median seconds of an evaluation forward pass (inference mode) and of a training step (forward, backward
through every layer) on a batch of random uint8 images at 224x224 (Inception v3: 299x299). Times are reported
relative to squeezenet1_1, measured side by side, since the machine may be shared.

    .venv/bin/python benchmarks/backbones.py                # --batch 4 --repeats 3 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from rlkit.agents.backbones import build_backbone

SIZES = {"squeezenet1_1": 224, "vgg16": 224, "googlenet": 224, "inception_v3": 299}


def timed(fn, name: str) -> float:
    start = time.perf_counter()
    fn(name)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    nets = {name: build_backbone(name, 1000) for name in SIZES}
    images = {n: torch.randint(0, 256, (args.batch, 3, s, s), dtype=torch.uint8) for n, s in SIZES.items()}
    labels = torch.zeros(args.batch, dtype=torch.long)
    times: dict[str, dict[str, list[float]]] = {n: {"eval": [], "train": []} for n in SIZES}

    def evaluate(name: str) -> None:
        with torch.inference_mode():
            nets[name].eval()(images[name])

    def train_step(name: str) -> None:
        net = nets[name].train()
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(images[name]), labels).backward()

    for name in SIZES:  # warm-up
        evaluate(name)
    for _ in range(args.repeats):
        for name in SIZES:
            times[name]["eval"].append(timed(evaluate, name) / args.batch)
            times[name]["train"].append(timed(train_step, name) / args.batch)
    base = {k: statistics.median(times["squeezenet1_1"][k]) for k in ("eval", "train")}
    print(
        "| backbone | input | parameters | head's | eval ms/image (x squeezenet) | train ms/image (x sq.) |"
    )
    print("|---|---|---|---|---|---|")
    for name, size in SIZES.items():
        net = nets[name]
        total = sum(p.numel() for p in net.parameters())
        head = sum(p.numel() for k, p in net.named_parameters() if k.startswith(f"net.{net.head}."))
        cells = []
        for kind in ("eval", "train"):
            t = statistics.median(times[name][kind])
            cells.append(f"{t * 1e3:.0f} ({t / base[kind]:.1f}x)")
        print(f"| {name} | {size}x{size} | {total:,} | {head:,} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
