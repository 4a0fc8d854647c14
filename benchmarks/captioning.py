"""Captioning quality on shapes_captions: the captioning agent's BLEU-1..4 on the held-out scenes against the
nearest-neighbour caption baseline (each test image gets the first caption of the closest training image,
in pixels), issue 16's target.

The agent trains through `rlkit train` in this process (`--steps` minibatches of 64, default config,
evaluation on the 500 test scenes at the end); the baseline reads the same splits.

    .venv/bin/python benchmarks/captioning.py                 # the table in benchmarks/README.md
    .venv/bin/python benchmarks/captioning.py --steps 300 --extra agent.attention=luong
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from rlkit.envs.shapes_captions import ShapesCaptionsEnv, bleu_scores, nearest_neighbour_captions
from rlkit.frontend.cli import main as rlkit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extra", nargs="*", default=[], help="more rlkit overrides, e.g. agent.beam=3")
    args = parser.parse_args()
    train, test = ShapesCaptionsEnv(split="train"), ShapesCaptionsEnv(split="test")
    baseline = bleu_scores(
        nearest_neighbour_captions(train.inputs, train.captions, test.inputs), test.captions
    )
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        overrides = [
            "agent=captioning",
            "env=shapes_captions",
            "ui=none",
            "num_threads=1",
            f"seed={args.seed}",
        ]
        overrides += [f"total_steps={args.steps}", f"eval.every={args.steps}", *args.extra]
        assert rlkit(["train", *overrides, f"hydra.run.dir={run}"]) == 0
        final = [
            json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if "eval/bleu4" in x
        ][-1]
    model = {f"bleu{n}": final[f"eval/bleu{n}"] for n in range(1, 5)}
    print(f"{args.steps} steps x 64 scenes, seed {args.seed}, {' '.join(args.extra) or 'default config'}")
    print("| captions | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 |\n|---|---|---|---|---|")
    for name, scores in (("captioning agent (greedy)", model), ("nearest neighbour (pixels)", baseline)):
        print(f"| {name} | " + " | ".join(f"{scores[f'bleu{n}']:.1f}" for n in range(1, 5)) + " |")


if __name__ == "__main__":
    main()
