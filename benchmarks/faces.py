"""Face-style embeddings (issue 18): softmax vs softmax + center loss vs triplet loss on held-out identities.

Each loss trains `rlkit train agent=embedding env=identities agent.loss=<loss>` (digits 0-5 as training
identities; 600 pairs of the never-seen digits 6-9 in 10 folds, as LFW) for `--epochs` epochs, for 3 seeds,
in this process through the CLI (``ui=none``, ``num_threads=1``), and reports the final evaluation: 10-fold
verification accuracy, AUC, EER and VAL@FAR=1e-3 (rlkit.envs.verification), mean and spread over the seeds.
A trivial baseline scores the raw pixels (L2-normalised) the same way.

    .venv/bin/python benchmarks/faces.py                          # 3 losses x 3 seeds, 20 epochs
    .venv/bin/python benchmarks/faces.py --losses softmax center --seeds 0 --epochs 5 --out results.json
    .venv/bin/python benchmarks/faces.py --figure benchmarks/figures/faces_2d.png --epochs 20   # Fig 6-10/11
    .venv/bin/python benchmarks/faces.py --sweep --lambdas 0.1 1 10 --alphas 0.5 0.9 --seeds 100 101 102

`--sweep` tunes the center loss without looking at the test identities: it trains on identities 0-159 and
verifies 600 pairs of identities 160-199 (VALIDATION: training identities of the benchmark, held out here),
softmax alone and softmax + center for each lambda x alpha; identities 200-299 (the test pairs) are never
generated. Pick the default from its table, then run the losses on the test pairs with other seeds.
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
VALIDATION = ["env.kwargs.train_identities=160", "env.kwargs.test_identities=40"]  # ids 160-199 verified


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


FIGURE = {  # panel title: overrides (2-D features of 10 training identities, the book's Fig 6-10/6-11)
    "softmax": ["agent.loss=softmax"],
    "softmax + center, lambda 0.1": ["agent.loss=center", "agent.center_weight=0.1"],
    "softmax + center, lambda 1": ["agent.loss=center", "agent.center_weight=1.0"],
}


def figure(path: Path, epochs: int) -> None:
    """Trains 2-D embeddings of 10 identities x 50 images per FIGURE entry; plots each one's training
    features side by side (raw features: the book's figures show them before normalisation)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlkit.frontend.app import build_runner
    from rlkit.frontend.compose import compose_config

    data = ["env.kwargs.train_identities=10", "env.kwargs.images_per_identity=50", "agent.embedding_dim=2"]
    fig, axes = plt.subplots(1, len(FIGURE), figsize=(5 * len(FIGURE), 5))
    for ax, (title, overrides) in zip(axes, FIGURE.items()):
        args = ["agent=embedding", "env=identities", "ui=none", "num_threads=1", *data, *overrides]
        with tempfile.TemporaryDirectory() as tmp:
            runner = build_runner(compose_config([*args, f"total_episodes={epochs}"]), Path(tmp) / "run")
            try:
                runner.train()
            finally:
                runner.close()
        env = IdentitiesEnv(train_identities=10, images_per_identity=50)
        feats = runner.agent.features(env.inputs)
        for k in range(10):
            rows = env.targets == k
            ax.scatter(feats[rows, 0], feats[rows, 1], s=4)
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"Wrote {path}")


def summarise(runs: list[dict[str, float]]) -> dict:
    """Runs, their mean and (population) standard deviation of each KEYS number."""
    return {
        "runs": runs,
        "mean": {k: statistics.mean(r[k] for r in runs) for k in KEYS},
        "std": {k: statistics.pstdev(r[k] for r in runs) for k in KEYS},
    }


def sweep(
    lambdas: list[float], alphas: list[float], seeds: list[int], epochs: int, softmax: bool = True
) -> dict[str, dict]:
    """Softmax (unless `softmax` is false) and softmax + center (each lambda x alpha) on the validation
    identities (module docstring)."""
    configs = {"softmax": ("softmax", [])} if softmax else {}
    for lam in lambdas:
        for alpha in alphas:
            extra = [f"agent.center_weight={lam}", f"agent.center_alpha={alpha}"]
            configs[f"center l={lam} a={alpha}"] = ("center", extra)
    results = {}
    for name, (loss, extra) in configs.items():
        start = time.perf_counter()
        results[name] = summarise([run_one(loss, s, epochs, [*VALIDATION, *extra]) for s in seeds])
        results[name]["seconds"] = time.perf_counter() - start
        m, sd = results[name]["mean"], results[name]["std"]
        print(
            f"{name:24s} accuracy {m['verification_accuracy']:.3f} +- {sd['verification_accuracy']:.3f}"
            f"  auc {m['auc']:.3f}  eer {m['eer']:.3f}  val {m['val_at_far']:.3f}"
            f"  per seed {[round(r['verification_accuracy'], 3) for r in results[name]['runs']]}",
            flush=True,
        )
    return results


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=list(LOSSES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--extra", nargs="*", default=[], help="more overrides, e.g. agent.embedding_dim=2")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--figure", type=Path, default=None, help="write the 2-D feature figure here instead")
    parser.add_argument("--sweep", action="store_true", help="tune lambda x alpha on validation identities")
    parser.add_argument("--lambdas", nargs="+", type=float, default=[0.1, 0.3, 1.0, 3.0, 10.0])
    parser.add_argument("--alphas", nargs="+", type=float, default=[0.5, 0.9])
    parser.add_argument("--no-softmax", action="store_true", help="--sweep: leave the softmax row out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.figure:
        figure(args.figure, args.epochs)
        return
    if args.sweep:
        results = sweep(args.lambdas, args.alphas, args.seeds, args.epochs, not args.no_softmax)
        if args.out:
            args.out.write_text(json.dumps(results, indent=1))
        return
    results: dict[str, dict] = {"pixels": {"mean": pixels_baseline()}}
    for loss in args.losses:
        start, runs = time.perf_counter(), [run_one(loss, s, args.epochs, args.extra) for s in args.seeds]
        results[loss] = {**summarise(runs), "seconds": time.perf_counter() - start}
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {args.epochs} epochs")
    print(f"{'loss':8s}" + "".join(f"{k:>24s}" for k in KEYS))
    for name, res in results.items():
        cells = [f"{res['mean'][k]:.3f}" + (f" +- {res['std'][k]:.3f}" if "std" in res else "") for k in KEYS]
        print(f"{name:8s}" + "".join(f"{c:>24s}" for c in cells))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main_bench()
