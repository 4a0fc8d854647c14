"""Chapter 3's experiment offline: fine-tune the head only, all layers, or train from scratch, at equal steps.

The book fine-tunes an ImageNet Inception v3 on 6 satellite classes (last layers only ~76%, all layers ~82%).
Here the pre-trained network is rlkit's small_cnn trained on the digits 0-4 (rlkit.agents.backbone_sources,
cached), and the new task is the digits 5-9: ``rlkit train agent=finetune env=digits
env.kwargs.classes=[5,6,7,8,9] env.eval_kwargs.classes=[5,6,7,8,9] total_steps=<steps>
env.kwargs.batch_size=32`` with `agent.train_layers=head`, `all`, or `all` with `agent.pretrained=false`,
3 seeds each, in this process (``ui=none``, ``num_threads=1``); the score is the held-out test split's
accuracy (the 5-9 images of the digits env's test split, every one once). Each optimiser in --optimizers is
run too (rmsprop: the book's RMSProp 1e-3 with TF-Slim's epsilon 1.0; adam: Adam 1e-3).

    .venv/bin/python benchmarks/finetune.py                 # --steps 200 --seeds 0 1 2 [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from rlkit.agents.backbone_sources import pretrained_small_cnn
from rlkit.frontend.app import train
from rlkit.frontend.compose import compose_config

CLASSES = "[5,6,7,8,9]"
VARIANTS = {
    "head only": ["agent.train_layers=head"],
    "all layers": ["agent.train_layers=all"],
    "from scratch": ["agent.train_layers=all", "agent.pretrained=false"],
}


def run(variant: list[str], optimizer: str, seed: int, steps: int, folder: Path) -> tuple[float, float]:
    """(test accuracy, seconds) of one fine-tuning run."""
    overrides = [
        "agent=finetune", "env=digits", f"env.kwargs.classes={CLASSES}", f"env.eval_kwargs.classes={CLASSES}",
        "env.kwargs.batch_size=32", f"total_steps={steps}", "eval.every=0", "checkpoint.every=0",
        "ui=none", "num_threads=1", f"seed={seed}", f"agent.optimizer={optimizer}", *variant,
    ]  # fmt: skip
    start = time.perf_counter()
    summary = train(compose_config(overrides), folder / f"{optimizer}_{'_'.join(variant)}_{seed}")
    return float(summary["final_eval"]["accuracy"]), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--optimizers", nargs="+", default=["rmsprop", "adam"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the runs' num_threads=1: two threads on shared cores spin-wait
    start = time.perf_counter()
    _, path = pretrained_small_cnn()
    print(f"pre-trained small_cnn: {path} ({time.perf_counter() - start:.1f} s, built or read)", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for optimizer in args.optimizers:
            for seed in args.seeds:  # the variants alternate within each seed
                for name, variant in VARIANTS.items():
                    acc, secs = run(variant, optimizer, seed, args.steps, Path(tmp))
                    results.append({"optimizer": optimizer, "variant": name, "seed": seed, "accuracy": acc})
                    print(
                        f"{optimizer:8s} {name:13s} seed {seed}: test accuracy {acc:.3f} ({secs:.1f} s)",
                        flush=True,
                    )
    print(
        f"\n| optimizer | variant | test accuracy, mean (min-max), seeds {args.seeds}, {args.steps} steps |"
    )
    print("|---|---|---|")
    for optimizer in args.optimizers:
        for name in VARIANTS:
            accs = [r["accuracy"] for r in results if r["optimizer"] == optimizer and r["variant"] == name]
            print(f"| {optimizer} | {name} | {statistics.mean(accs):.3f} ({min(accs):.3f}-{max(accs):.3f}) |")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
