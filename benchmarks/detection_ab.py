"""Detection training speed, round 2 (issue 18): the code before and after, side by side in one process.

For each seed, three training runs of `benchmarks/detection.py` alternate in this process: the bare PyTorch
loop, rlkit as it is, and rlkit with round 2 undone (the epoch's mAP matched image by image and class by
class, tests/test_detection_matching.py's reference; act()'s softmax along the last dim of 5), patched in
for that run only. It prints each run's CPU images/s and the two CPU ratios to the bare loop.

    .venv/bin/python benchmarks/detection_ab.py --steps 160 --seeds 0 1
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

import rlkit.envs.detection_metrics as metrics
from rlkit.agents import detector

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.detection import run_bare, run_rlkit  # noqa: E402
from tests.test_detection_matching import reference_match  # noqa: E402

NEW_SOFTMAX = "out[..., :-4].transpose(1, 2).softmax(dim=1)[:, 1:].transpose(1, 2).flatten(1)"
OLD_SOFTMAX = "out[..., :-4].softmax(dim=-1)[..., 1:].flatten(1)"


def old_detect():  # noqa: ANN201
    """DetectorAgent.detect with the softmax it had before round 2."""
    source = inspect.getsource(detector.DetectorAgent.detect)
    assert NEW_SOFTMAX in source
    lines = [line[4:] for line in source.replace(NEW_SOFTMAX, OLD_SOFTMAX).splitlines()]
    scope: dict = {}
    exec("\n".join(lines), vars(detector), scope)  # noqa: S102
    return scope["detect"]


@contextlib.contextmanager
def round1() -> Iterator[None]:
    """The detector and the metric as they were before round 2."""
    match, detect = metrics.match_detections, detector.DetectorAgent.detect
    metrics.match_detections = lambda d, g, n, t: [reference_match(d, g, c, t) for c in range(n)]
    detector.DetectorAgent.detect = old_detect()
    try:
        yield
    finally:
        metrics.match_detections, detector.DetectorAgent.detect = match, detect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=160)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    torch.set_num_threads(1)
    for k, seed in enumerate(args.seeds):
        runs = {}
        order = ["bare", "new", "old"] if k % 2 == 0 else ["old", "new", "bare"]
        for name in order:
            if name == "bare":
                runs[name] = run_bare(args.steps, seed)
            elif name == "new":
                runs[name] = run_rlkit(args.steps, seed)
            else:
                with round1():
                    runs[name] = run_rlkit(args.steps, seed)
        cpu = {name: r["train_cpu_ips"] for name, r in runs.items()}
        row = {"seed": seed, "train_cpu_ips": cpu, "map50": {n: r["map50_nms"] for n, r in runs.items()}}
        row["cpu_ratio_new"], row["cpu_ratio_old"] = cpu["new"] / cpu["bare"], cpu["old"] / cpu["bare"]
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
