"""Face-style embeddings (issue 18): softmax vs softmax + center loss vs triplet loss on held-out identities.

Each loss trains `rlkit train agent=embedding env=identities agent.loss=<loss>` (digits 0-5 as training
identities; 600 pairs of the never-seen digits 6-9 in 10 folds, as LFW) for `--epochs` epochs, for 3 seeds,
in this process through the CLI (``ui=none``, ``num_threads=1``), and reports the final evaluation: 10-fold
verification accuracy, AUC, EER and VAL@FAR=1e-3 (rlkit.envs.verification), mean and spread over the seeds.
A trivial baseline scores the raw pixels (L2-normalised) the same way.

    .venv/bin/python benchmarks/faces.py                          # 3 losses x 3 seeds, 20 epochs
    .venv/bin/python benchmarks/faces.py --losses softmax center --seeds 0 --epochs 5 --out results.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from rlkit.envs.identities import IdentitiesEnv
from rlkit.frontend.cli import main

LOSSES = {  # name: extra overrides
    "softmax": ["agent.loss=softmax"],
    "center": ["agent.loss=center"],
    "triplet": ["agent.loss=triplet"],
}
KEYS = ("verification_accuracy", "auc", "eer", "val_at_far")


def run_one(loss: str, seed: int, epochs: int, extra: list[str]) -> dict[str, float]:
    """The final eval/ numbers of one training run."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["train", "agent=embedding", "env=identities", "ui=none", "num_threads=1", f"seed={seed}"]
        args += [f"total_episodes={epochs}", f"eval.every={10**9}", *LOSSES[loss], *extra]
        assert main([*args, f"hydra.run.dir={tmp}/run"]) == 0
        rows = [json.loads(line) for line in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
    final = [r for r in rows if "eval/verification_accuracy" in r][-1]
    return {k: float(final[f"eval/{k}"]) for k in KEYS}


def pixels_baseline() -> dict[str, float]:
    """The same verification on L2-normalised raw pixels."""
    env = IdentitiesEnv(split="test", embedding_width=64)
    x = env.inputs.reshape(len(env.inputs), -1).astype(np.float64)
    m = env.verify(x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-12))
    return {k: m[k] for k in KEYS}


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=list(LOSSES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--extra", nargs="*", default=[], help="more overrides, e.g. agent.embedding_dim=2")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results: dict[str, dict] = {"pixels": {"mean": pixels_baseline()}}
    for loss in args.losses:
        start, runs = time.perf_counter(), [run_one(loss, s, args.epochs, args.extra) for s in args.seeds]
        results[loss] = {
            "runs": runs,
            "mean": {k: statistics.mean(r[k] for r in runs) for k in KEYS},
            "std": {k: statistics.pstdev(r[k] for r in runs) for k in KEYS},
            "seconds": time.perf_counter() - start,
        }
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {args.epochs} epochs")
    print(f"{'loss':8s}" + "".join(f"{k:>24s}" for k in KEYS))
    for name, res in results.items():
        cells = [f"{res['mean'][k]:.3f}" + (f" +- {res['std'][k]:.3f}" if "std" in res else "") for k in KEYS]
        print(f"{name:8s}" + "".join(f"{c:>24s}" for c in cells))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main_bench()
