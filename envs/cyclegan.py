"""Unpaired image translation (CycleGAN, book chapter 11) as a supervised-style env.

Description: a step shows a minibatch of domain-A crops (uint8 (batch, 3, H, W)) and reveals, in
``info["targets"]``, a minibatch of domain-B crops that is not paired with it (other images, other windows).
The action is the agent's G_AB(A) and its cycle G_BA(G_AB(A)) stacked on the channel axis, float32 in [-1, 1]
(batch, 6, H, W). An episode is one epoch (`crops_per_epoch` random crops with flips of each domain); the
evaluation (split "test") uses fixed crops of the held-out images.

Tasks:

* ``photo2sepia`` (env=photo2sepia, offline): A = the bundled photographs (envs/image2image_data.py), B = the
  same kind of photographs toned by a fixed filter (`sepia`: 60% of the classic sepia matrix, 40% of the
  original colours). Training draws A from four of the training photographs and B from the other three, so
  no B crop is the translation of an A crop; at evaluation the reference translation sepia(A) of each held-out
  crop is known, so ``psnr``/``ssim`` of G_AB(A) against it measure whether the translation kept the content
  and changed the style (the headline, with ``baseline_psnr``: A itself taken as its translation).
* ``folder`` (env=cyclegan_folder): CycleGAN's `trainA/`, `trainB/`, `testA/`, `testB/` at ``root``
  (apple2orange, horse2zebra, ...). Without a reference, the headline is the cycle error.

The reward is 0 until an epoch's last step, which pays the epoch's headline (minus the cycle error for
folders). Every task reports ``cycle_error``: the mean |G_BA(G_AB(a)) - a| in [0, 1] units (lower is better).
The training split reports ``cycle_error`` and ``psnr`` only (no SSIM or baseline: evaluations log those).
Arguments: task, root, split ("train" | "test"), batch_size (4), crop (64), crops_per_epoch (64),
eval_crops_per_image (4), render_mode (None | "rgb_array").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs import image2image_data as data
from rlkit.envs.image2image import STRIP_ROWS, CropEpochs, image_scores
from rlkit.envs.image2image_pictures import chw, hwc, strips, to_uint8, write_index
from rlkit.envs.supervised import SupervisedEnv, save_png

TASKS = ("photo2sepia", "folder")
SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)


def sepia(image: np.ndarray, strength: float = 0.6) -> np.ndarray:
    """The photo2sepia filter: strength x the sepia matrix + (1 - strength) x the original, uint8 (..., 3)."""
    x = image.astype(np.float32)
    out = strength * (x @ SEPIA.T) + (1.0 - strength) * x
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class UnpairedEnv(CropEpochs, SupervisedEnv):
    """Unpaired translation on crops (see the module docstring)."""

    samples_at_eval = (
        True  # strips A | G(A) | F(G(A)) | reference at each evaluation (rlkit.frontend.samples)
    )
    reward_key = "psnr"

    def __init__(
        self,
        task: str = "photo2sepia",
        root: str | None = None,
        split: str = "train",
        batch_size: int = 4,
        crop: int = 64,
        crops_per_epoch: int = 64,
        eval_crops_per_image: int = 4,
        render_mode: str | None = None,
    ):
        self._set_crops(TASKS, task, split, crop, crops_per_epoch, eval_crops_per_image)
        if task == "folder":
            if not root:
                raise UserError(
                    "env=cyclegan_folder needs env.kwargs.root=<folder with trainA/ trainB/ testA/ testB/>"
                )
            a_images, b_images = data.load_unpaired_folder(root, "train" if split == "train" else "test")
            self.reward_key, self.headline = (
                "neg_cycle_error",
                Headline("cycle error", "cycle_error", False, 4),
            )
        else:
            photos = data.bundled_images(split)
            a_images, b_images = (
                (photos[0::2], [sepia(p) for p in photos[1::2]]) if split == "train" else (photos, None)
            )
            self.headline = Headline("PSNR", "psnr", decimals=2)
        self.a_images = [data.fit_crop(x, crop) for x in a_images]
        self.b_images = None if b_images is None else [data.fit_crop(x, crop) for x in b_images]
        if split == "train":
            inputs, targets = self._random_crops(np.random.default_rng(0))
        else:
            inputs = data.fixed_crops(self.a_images, crop, eval_crops_per_image)
            if self.b_images is None:
                targets = sepia(inputs)
            else:
                targets = data.fixed_crops(self.b_images, crop, eval_crops_per_image)
                targets = np.resize(targets, inputs.shape)  # as many B as A crops (repeated when fewer)
            inputs, targets = chw(inputs), chw(targets)
        super().__init__(
            inputs,
            targets,
            batch_size,
            shuffle=False,
            observation_space=spaces.Box(0, 255, (batch_size, 3, crop, crop), np.uint8),
            action_space=spaces.Box(-1.0, 1.0, (batch_size, 6, crop, crop), np.float32),
            render_mode=render_mode,
        )

    def _random_crops(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n, crop = self.crops_per_epoch, self.crop
        a = data.random_crops(self.a_images, n, crop, rng)
        b = data.random_crops(self.b_images, n, crop, rng)
        return chw(a), chw(b)

    def score(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        """Cycle error, and with a reference, PSNR/SSIM of the translation and of the input taken as it."""
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            return {
                "psnr": 0.0,
                "cycle_error": 0.0,
                **({"neg_cycle_error": 0.0} if self.task == "folder" else {}),
            }
        real = self._current[rows].astype(np.float32)
        cycle = float(np.abs(to_uint8(pred[rows, 3:]).astype(np.float32) - real).mean() / 255.0)
        metrics = {"cycle_error": cycle, "psnr": 0.0}
        if self.task == "folder":  # the reward: higher is better
            metrics["neg_cycle_error"] = -cycle
        if self.task == "photo2sepia" and self.split == "train":  # PSNR, the headline, only (as env=colorize)
            ref, out = sepia(hwc(self._current[rows])), hwc(to_uint8(pred[rows, :3]))
            metrics["psnr"] = float(np.mean([image_scores(p, t, ssim=False)[0] for p, t in zip(out, ref)]))
        elif self.task == "photo2sepia":  # the reference translation is known (the agent never sees it)
            ref, out = sepia(hwc(self._current[rows])), hwc(to_uint8(pred[rows, :3]))
            model = np.array([image_scores(p, t) for p, t in zip(out, ref)])
            trivial = np.array([image_scores(p, t) for p, t in zip(hwc(self._current[rows]), ref)])
            metrics.update(psnr=float(model[:, 0].mean()), ssim=float(model[:, 1].mean()))
            metrics.update(
                baseline_psnr=float(trivial[:, 0].mean()), baseline_ssim=float(trivial[:, 1].mean())
            )
        return metrics

    def draw(
        self, obs: np.ndarray, target: np.ndarray, pred: np.ndarray | None, mask: np.ndarray
    ) -> np.ndarray:
        """Strips of the batch's first rows: A | G(A) | F(G(A)) | B (the reference in evaluation)."""
        rows = np.arange(min(STRIP_ROWS, len(mask)))
        out = np.zeros((len(rows), 6, *obs.shape[2:]), np.float32) if pred is None else pred[rows]
        return strips(hwc(obs[rows]), hwc(to_uint8(out[:, :3])), hwc(to_uint8(out[:, 3:])), hwc(target[rows]))

    def sample_grid(self, agent: Any) -> np.ndarray:
        """Strips of the first evaluation crops: A | G(A) | F(G(A)) | B, the same crops every evaluation."""
        inputs = self.inputs[:STRIP_ROWS]
        out = agent.act(inputs[None], explore=False)[0]
        return self.draw(inputs, self.targets[:STRIP_ROWS], out, np.ones(len(inputs), bool))

    def rollout_files(self, agent: Any, out_dir: str | Path, prefix: str = "latest") -> list[Path]:
        """The held-out whole A images, G_AB(A) and the reference (photo2sepia) in <out_dir>/index.html."""
        out_dir, rows, paths = Path(out_dir), [], []
        for k, a in enumerate(self.a_images):
            out = to_uint8(agent.act(chw(a)[None, None], explore=False)[0, 0, :3])
            kinds = {"inputs": a, "outputs": hwc(out)}
            if self.task == "photo2sepia":
                kinds["targets"] = sepia(a)
            names = {kind: f"images/{prefix}-{k:03d}-{kind}.png" for kind in kinds}
            paths += [save_png(image, out_dir / names[kind]) for kind, image in kinds.items()]
            rows.append((f"{k:03d}", names))
        paths.append(write_index(out_dir / "index.html", rows))
        return paths
