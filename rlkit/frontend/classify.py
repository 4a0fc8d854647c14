"""`rlkit play run=<image classifier run> input=<image or folder>`: the top-5 classes, as the book's
classify_image does (chapter 3): one line per class, `name (score = 5.46853)`, scores being the logits.

An env prepares images when it has ``read_images(paths) -> uint8 (N, C, H, W)`` (rlkit.envs.image_folder);
an agent scores them when it has ``scores(images) -> (N, n_classes)`` (rlkit.agents.finetune).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlkit.core.diskio import writing
from rlkit.core.errors import UserError
from rlkit.envs.supervised import save_png
from rlkit.frontend.inputs import input_paths


def top_classes(scores: np.ndarray, names: list[str], top: int) -> list[tuple[str, float]]:
    """The `top` best (class name, score) pairs of one image's scores, best first."""
    order = np.argsort(-scores, kind="stable")[:top]
    return [(names[k], float(scores[k])) for k in order]


def play_classify(
    env: Any,
    opts: dict[str, str],
    agent: Any,
    random_policy: bool,
    env_name: str,
    out_dir: Path | None = None,
) -> bool:
    """Prints the top classes of the `input=` images when it is given (or, for a style run, writes them
    stylised to `out_dir`); True when it did."""
    if "input" not in opts:
        if "top" in opts:
            raise UserError("top= goes with input=<image>: rlkit play run=<run> input=<image> top=5")
        return False
    env = getattr(env, "unwrapped", env)
    if not random_policy and callable(getattr(agent, "stylise", None)) and out_dir is not None:
        return stylise_files(env, agent, input_paths(opts["input"]), out_dir)
    if (
        random_policy
        or not callable(getattr(env, "read_images", None))
        or not callable(getattr(agent, "scores", None))
    ):
        raise UserError(
            f"input= needs a trained image classifier run (agent=finetune env=image_folder) or image "
            f"translation (agent=pix2pix env=colorize, ...) or detection run (agent=detector), not "
            f"{'a random policy' if random_policy else 'a run'} on {env_name}"
        )
    try:
        top = int(opts.get("top", 5))
    except ValueError:
        top = 0
    if top < 1:
        raise UserError(f"top={opts['top']} is invalid: it must be an integer >= 1")
    paths = input_paths(opts["input"])
    scores = agent.scores(env.read_images(paths))
    for path, row in zip(paths, scores):
        if len(paths) > 1:
            print(f"{path}:")
        for name, score in top_classes(row, env.class_names, top):
            print(f"{name} (score = {score:.5f})", flush=True)
    return True


def stylise_files(env: Any, agent: Any, paths: list[Path], out_dir: Path) -> bool:
    """Writes each image beside its stylised version as <out_dir>/stylised_<name>.png."""
    images = env.read_images(paths)
    for path, img, out in zip(paths, images, agent.stylise(images)):
        styled = (out.transpose(1, 2, 0) * 255).round().astype(np.uint8)
        target = out_dir / f"stylised_{path.stem}.png"
        with writing(target):
            save_png(np.concatenate([img.transpose(1, 2, 0), styled], axis=1), target)
        print(f"Wrote {target}", flush=True)
    return True
