"""`rlkit play run=<image classifier run> show=saliency,fooling,classes [input=<images>] [target=<class>]`:
what the run's network sees (CS231n's network visualisation, rlkit.agents.visualize).

* saliency (needs input=): each image above its saliency map for the class the network predicts;
* fooling (needs input=): each image, the fooling image the network takes for `target` (default: the class
  after its prediction), and their difference x10 around grey, with the steps it took printed;
* classes: one class visualisation per class, from noise (100 steps, CS231n's values), its score printed;
* dream, style: DeepDream and slow style transfer (rlkit.frontend.dream_style).

Why play options and not a training agent: they analyse a trained network and train nothing, exactly what
`rlkit play run=` is for; the strips go to `<run dir>/videos/<kind>.png` (or out=) and to a TensorBoard
event file in the run directory (Images tab, tags `visualize/<kind>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlkit.core.diskio import writing
from rlkit.core.errors import UserError, invalid_choice
from rlkit.envs.supervised import save_png
from rlkit.frontend.dream_style import dream_and_style
from rlkit.frontend.inputs import input_paths

SHOWS = ("saliency", "fooling", "classes", "dream", "style")


def _class_index(names: list[str], given: str) -> int:
    if given not in names:
        raise invalid_choice(f"target={given}", names, "classes")
    return names.index(given)


def play_visualize(env: Any, opts: dict[str, str], agent: Any, run_dir: Path | None, out_dir: Path) -> bool:
    """Writes the `show=` pictures of a trained image classifier run; True when show= was given."""
    if "show" not in opts:
        if "target" in opts:
            raise UserError("target= goes with show=fooling: rlkit play run=<run> show=fooling input=<image>")
        return False
    import torch  # heavy: only when pictures are made

    from rlkit.agents import visualize as vis  # torch: only when pictures are made (play loads without it)

    shows = [s for s in opts["show"].split(",") if s]
    bad = [s for s in shows if s not in SHOWS]
    env = getattr(env, "unwrapped", env)
    if bad or not shows:
        raise UserError(
            f"show={opts['show']} is invalid: valid values are {', '.join(SHOWS)} (comma-separated)"
        )
    model = getattr(agent, "model", None)
    reads = callable(getattr(env, "read_images", None))
    if run_dir is None or not hasattr(model, "preprocess") or ("input" in opts and not reads):
        raise UserError(
            "show= needs a trained image classifier run (agent=finetune; with input=: env=image_folder)"
        )
    if {"saliency", "fooling"} & set(shows) and "input" not in opts:
        raise UserError(f"show={opts['show']} needs input=<image or folder>: the images to look at")
    paths = input_paths(opts["input"]) if "input" in opts else []
    images = torch.as_tensor(env.read_images(paths)).float() / 255.0 if paths else None
    names, pictures = list(env.class_names), {}
    side = env.observation_space.shape[-1]
    scale = vis.auto_scale(side)
    if images is not None:
        with torch.no_grad():
            predicted = vis.class_scores(model, images).argmax(dim=1)
    if "saliency" in shows:
        maps = vis.saliency_maps(model, images, predicted)
        top = vis.strip(list(images), scale)
        bottom = vis.strip([vis.normalise_map(m)[None] for m in maps], scale)
        pictures["saliency"] = torch.cat([top, bottom], dim=0)
    if "fooling" in shows:
        rows = []
        for path, img, pred in zip(paths, images, predicted.tolist()):
            target = _class_index(names, opts["target"]) if "target" in opts else (pred + 1) % len(names)
            fooled, steps = vis.fooling_image(model, img, target)
            now = int(vis.class_scores(model, fooled[None]).argmax())
            print(f"{path.name}: {names[pred]} -> {names[now]} (target {names[target]}) in {steps} steps")
            rows.append(vis.strip([img, fooled, (0.5 + 10 * (fooled - img)).clamp(0, 1)], scale))
        pictures["fooling"] = torch.cat(rows, dim=0)
    if "classes" in shows:
        images_c = []
        for k, name in enumerate(names):
            img, scores = vis.class_visualization(model, k, (env.observation_space.shape[1], side, side))
            print(f"class {name}: score {scores[0]:.3f} -> {scores[-1]:.3f} after {len(scores)} steps")
            images_c.append(img)
        pictures["classes"] = vis.strip(images_c, scale)
    pictures.update(dream_and_style(model, shows, opts, paths))
    _write(pictures, run_dir, out_dir)
    return True


def _write(pictures: dict[str, Any], run_dir: Path, out_dir: Path) -> None:
    """Each picture as <out_dir>/<kind>.png and as a TensorBoard image in the run directory."""
    from rlkit.core.loggers import TensorBoardLogger  # tensorboard's protobufs: only when pictures are made

    board = TensorBoardLogger(run_dir)
    try:
        for kind, picture in pictures.items():
            frame = np.ascontiguousarray(picture.numpy())
            path = out_dir / f"{kind}.png"
            with writing(path):
                save_png(frame, path)
            board.log_video(f"visualize/{kind}", frame[None], 0, fps=1)
            print(f"Wrote {path}", flush=True)
    finally:
        board.close()
