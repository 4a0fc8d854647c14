"""Object detection as a task env (book chapter 5): a step shows a minibatch of images, the action the boxes.

Description:
    An episode is one epoch over a split of images with boxes; `ShapesDetectionEnv` (rlkit/ShapesDetection-v0,
    `env=shapes_detection`) generates them offline (rlkit.envs.shapes_scenes), `VocEnv` (envs/voc.py) reads
    Pascal VOC. Every detection of the epoch is kept and the epoch is scored at its last step, as the GAN
    tasks are (envs/gan.py): mAP needs all the images' detections ranked together.
Observation Space:
    Box(0, 255, (batch, 3, S, S), uint8): the images (a zero-padded last minibatch: see `mask`).
Action Space:
    Box((batch, max_detections, 6), float32): per image up to `max_detections` rows x1, y1, x2, y2 (pixels),
    score, class; rows with class < 0 are empty. `action_space.high[0, 0, 5]` is the last class index.
Rewards:
    0, except the epoch's last step: its mAP@0.5 (the headline: rlkit.core.headline).
Episode End:
    After the epoch's last minibatch (terminated).
info:
    ``targets`` (batch, max_objects, 5) rows x1, y1, x2, y2, class (class -1: padding), ``mask`` (real
    images), ``metrics``: "count" per step and, at the epoch's end, map50 (VOC mAP@0.5), map (COCO
    mAP@[.5:.95]) and map50_coco (rlkit.envs.detection_metrics), logged as eval/<key>; the training
    split's epoch reports map50 alone (all the runner reads from it: the reward and the live display).
Arguments (ShapesDetectionEnv):
    split (train | test), size (train scenes: 1024; test: 256), image_size (64), batch_size (32),
    max_objects (6), max_detections (answers per image: 25, as a scene has at most 6 objects; VOC: 100),
    seed (scene seed: 0; the test split uses seed + 1,000,003), render_mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs.detection_metrics import detection_metrics, mean_ap
from rlkit.envs.shapes_scenes import CLASSES, make_scenes
from rlkit.envs.supervised import SPLITS, SupervisedEnv, check_choice, check_positive, pad_batch, tile_grid

MAX_DETECTIONS = 100  # rows of an image's answer (COCO's cap; env.kwargs.max_detections)
TEST_SEED_OFFSET = 1_000_003  # the test split's scenes come from another seed: held out


def pad_objects(objects: list[np.ndarray], rows: int) -> np.ndarray:
    """(n, rows, 5) float32 from n (k, 5) arrays; missing rows are zeros with class -1."""
    out = np.zeros((len(objects), rows, 5), dtype=np.float32)
    out[:, :, 4] = -1
    for i, obj in enumerate(objects):
        out[i, : len(obj)] = obj[:rows]
    return out


def draw_boxes(image: np.ndarray, dets: np.ndarray, names: tuple[str, ...], min_score: float = 0.3) -> Any:
    """A PIL image of (H, W, 3) uint8 `image` with its detections (K, 6) drawn: box, class name and score
    (rows scoring below `min_score`, and empty rows, left out); ground truth (K, 5) draws without a score."""
    from PIL import Image, ImageDraw

    canvas = Image.fromarray(np.ascontiguousarray(image))
    pen = ImageDraw.Draw(canvas)
    palette = [(255, 60, 60), (60, 220, 60), (70, 120, 255), (255, 200, 0), (255, 0, 255), (0, 220, 220)]
    for row in dets:
        cls = int(row[-1])
        score = float(row[4]) if len(row) == 6 else None
        if cls < 0 or (score is not None and score < min_score):
            continue
        colour = palette[cls % len(palette)]
        pen.rectangle([float(v) for v in row[:4]], outline=colour)
        name = names[cls] if cls < len(names) else str(cls)
        pen.text(
            (float(row[0]) + 1, float(row[1]) + 1),
            name if score is None else f"{name} {score:.2f}",
            fill=colour,
        )
    return canvas


class DetectionEnv(SupervisedEnv):
    """One epoch of images in minibatches, scored by mAP at its end; subclasses load the split."""

    headline = Headline("mAP@0.5", "map50")

    def _setup(
        self,
        images: np.ndarray,
        objects: list[np.ndarray],
        names: tuple[str, ...],
        split: str,
        batch_size: int,
        render_mode: str | None,
        max_detections: int = MAX_DETECTIONS,
    ) -> None:
        check_choice("split", split, SPLITS)
        check_positive("batch_size", batch_size)
        check_positive("max_detections", max_detections)
        if render_mode is not None:
            check_choice("render_mode", render_mode, tuple(self.metadata["render_modes"]))
        if len(images) == 0:
            raise UserError("a detection task needs at least one image")
        self.class_names, self.objects = tuple(names), objects
        low = np.full((batch_size, max_detections, 6), -np.inf, dtype=np.float32)
        high = np.full((batch_size, max_detections, 6), np.inf, dtype=np.float32)
        low[..., 5], high[..., 5] = -1, len(names) - 1
        targets = pad_objects(objects, max(1, max(len(o) for o in objects)))
        observation_space = spaces.Box(0, 255, (batch_size, *images.shape[1:]), np.uint8)
        action_space = spaces.Box(low, high, dtype=np.float32)
        super().__init__(
            images, targets, batch_size, split == "train", observation_space, action_space, render_mode
        )
        self._dets, self._gts = [], []

    @property
    def images(self) -> np.ndarray:
        """The split's images (N, 3, H, W) uint8."""
        return self.inputs

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Starts an epoch (a new order of the training split) and shows its first minibatch."""
        self._dets, self._gts = [], []
        return super().reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Keeps the minibatch's detections, reveals its boxes; the epoch's last step scores them all."""
        rows, obs, targets, mask = self._rows(), self._current, self._target(), self._mask()
        dets = np.asarray(action, dtype=np.float32).reshape(self.action_space.shape)[: len(rows)]
        self._dets += [d[d[:, 5] >= 0] for d in dets]
        self._gts += [self.objects[r] for r in rows]
        self._last = (obs[: len(rows)], targets, dets, mask)
        metrics: dict[str, float] = {"count": float(len(rows))}
        self._batch += 1
        terminated, reward = self._batch >= self.batches_per_epoch, 0.0
        if terminated:
            n_cls = len(self.class_names)
            if self.shuffle:  # training (the COCO thresholds are read in evaluations only)
                metrics["map50"] = mean_ap(self._dets, self._gts, n_cls, 0.5)
            else:
                metrics.update(detection_metrics(self._dets, self._gts, n_cls))
            reward = metrics["map50"]
            next_obs = obs.copy()
        else:
            next_obs = self._current = self._obs()
        return next_obs, reward, terminated, False, {"targets": targets, "mask": mask, "metrics": metrics}

    def draw(
        self, obs: np.ndarray, target: np.ndarray, pred: np.ndarray | None, mask: np.ndarray
    ) -> np.ndarray:
        """The minibatch (up to 16 images) with the detections drawn, or its boxes before any step."""
        shown = pred if pred is not None else target
        tiles = [
            np.asarray(draw_boxes(image.transpose(1, 2, 0), shown[i], self.class_names))
            for i, image in enumerate(obs[:16])
        ]
        return tile_grid(tiles, [""] * len(tiles), [(0, 0, 0)] * len(tiles), 16)

    def answer_inputs(self, agent: Any, paths: list[Path], out_dir: Path) -> list[Path]:
        """`rlkit play run=... input=<image or folder>`: each image resized to the task's size, detected,
        and written with its boxes at its own size to <out_dir>/<name>_boxes.png."""
        from PIL import Image

        side = self.observation_space.shape[-1]
        written = []
        for path in paths:
            try:
                img = Image.open(path).convert("RGB")
            except OSError as err:
                raise UserError(f"input={path}: not an image Pillow can read ({err})") from err
            small = np.asarray(img.resize((side, side), Image.BILINEAR)).transpose(2, 0, 1)
            obs = pad_batch(small[None], self.batch_size)
            dets = np.array(agent.act(obs[None], explore=False)[0][0], dtype=np.float32)
            dets[:, [0, 2]] *= img.width / side
            dets[:, [1, 3]] *= img.height / side
            out = Path(out_dir) / f"{Path(path).stem}_boxes.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            draw_boxes(np.asarray(img), dets, self.class_names).save(out)
            found = [f"{self.class_names[int(d[5])]} {d[4]:.2f}" for d in dets if d[5] >= 0 and d[4] >= 0.3]
            print(f"{path}: {', '.join(found) or 'nothing found'}", flush=True)
            written.append(out)
        return written


class ShapesDetectionEnv(DetectionEnv):
    """Generated scenes of coloured shapes on textured photos (rlkit.envs.shapes_scenes), 4 classes."""

    def __init__(
        self,
        split: str = "train",
        size: int | None = None,
        image_size: int = 64,
        batch_size: int = 32,
        max_objects: int = 6,
        max_detections: int = 25,
        seed: int = 0,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        size = size if size is not None else (1024 if split == "train" else 256)
        check_positive("size", size)
        check_positive("max_objects", max_objects)
        if not isinstance(image_size, int) or image_size < 32:
            raise UserError(f"env.kwargs.image_size={image_size!r} is invalid: it must be an integer >= 32")
        scene_seed = seed if split == "train" else seed + TEST_SEED_OFFSET
        images, objects = make_scenes(size, scene_seed, image_size, max_objects)
        self._setup(images, objects, CLASSES, split, batch_size, render_mode, max_detections)
