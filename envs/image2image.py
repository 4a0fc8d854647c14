"""Image-to-image translation tasks (book chapters 9-10) as supervised envs: input crops in, translations out.

Description: a step shows a minibatch of input crops (uint8 (batch, 3, H, W)); the action is the agent's
translation of each (float32 in [-1, 1], same shape); the target crops are revealed in ``info["targets"]``
(uint8); the reward is 0 until the epoch's last step, which pays the epoch's mean PSNR (dB) against them,
so an episode's return is the epoch's PSNR. An episode is one epoch: in training,
`crops_per_epoch` fresh random crops (random image, position and left-right flip) of the training images; in
evaluation (split "test"), fixed crops of the held-out images, the same every time (envs/image2image_data.py).

Inpainting keeps the known pixels: the answer is the model's output inside the hole and the input outside it
(as inpainting is scored in practice), so the model and the mean-fill baseline differ only in the hole.

Metrics (``info["metrics"]``, eval/<key>; scikit-image's `peak_signal_noise_ratio` (data range 255) and
`structural_similarity` (RGB, 7x7 window), averaged over crops): ``psnr`` (the headline), ``ssim``, and
``baseline_psnr``/``baseline_ssim`` of the trivial answer: the grey image replicated (colorize), the hole
filled with the mean of the visible pixels (inpaint), bicubic upscaling (super_resolution), a flat image
of the training photographs' mean colour (edges), the input itself (folder). The training split scores
``psnr`` only (the reward and the live display's value: all the runner reads from a training env).

Tasks (``task``): colorize (input: grayscale), inpaint (input: the book's blank, a white centre hole), edges
(input: Canny edges; env=edges2photo), super_resolution (input: the book's blur, x4 down then bicubic up),
folder (pix2pix A|B folders at ``root``: `train/`, and `val/` or else `test/` for evaluation; ``direction``
AtoB or BtoA). The first four use the bundled photographs (a fixed train/test split of whole images).

Arguments: task, root, direction, split ("train" | "test"), batch_size (8), crop (64 px), crops_per_epoch
(64), eval_crops_per_image (4), render_mode (None | "rgb_array").

Pictures: strips (input | output | target) of the first evaluation crops at each evaluation (``sample_grid``:
<run>/samples/ and TensorBoard, rlkit.frontend.samples); `rollout_files` (`rlkit play run=`) translates the
held-out whole images and writes them with the book's index.html (input / output / target).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs import image2image_data as data
from rlkit.envs.image2image_pictures import chw, hwc, strips, to_uint8, write_index
from rlkit.envs.supervised import SPLITS, SupervisedEnv, check_choice, check_positive, save_png

TASKS = ("colorize", "inpaint", "edges", "super_resolution", "folder")
DIRECTIONS = ("AtoB", "BtoA")
STRIP_ROWS = 6  # evaluation crops in the strips picture


def image_scores(pred: np.ndarray, target: np.ndarray, ssim: bool = True) -> tuple[float, float]:
    """(PSNR in dB, SSIM) of two uint8 (H, W, 3) images, by scikit-image; PSNR of identical images is 100.
    Without `ssim` (training: PSNR is its headline) the SSIM, the costly half, is not computed: NaN."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    if np.array_equal(pred, target):
        return 100.0, 1.0
    psnr = float(peak_signal_noise_ratio(target, pred, data_range=255))
    if not ssim:
        return psnr, float("nan")
    return psnr, float(structural_similarity(target, pred, channel_axis=2, data_range=255, win_size=7))


def fill_hole_with_mean(image: np.ndarray) -> np.ndarray:
    """The inpainting baseline: blank's centre hole filled with the mean colour of the pixels around it."""
    top, left, h, w = data.hole_box(*image.shape[:2])
    visible = np.ones(image.shape[:2], bool)
    visible[top : top + h, left : left + w] = False
    out = image.copy()
    out[~visible] = np.rint(image[visible].mean(axis=0)).astype(np.uint8)
    return out


def task_data(task: str, split: str, root: str | None, direction: str) -> tuple[list, Callable | None]:
    """(whole-image (input, target) pairs, an operation applied to each input crop or None)."""
    if task == "folder":
        if not root:
            raise UserError(
                "env=pix2pix_folder needs env.kwargs.root=<folder with train/ and val/ of A|B images>"
            )
        name = "train" if split == "train" else ("val" if (Path(root) / "val").is_dir() else "test")
        pairs = data.load_ab_folder(root, name)
        return ([(b, a) for a, b in pairs] if direction == "BtoA" else pairs), None
    photos = data.bundled_images(split)
    if task == "inpaint":
        return [(p, p) for p in photos], data.blank
    op = task_op(task)
    return [(op(p), p) for p in photos], None


def mean_colour() -> np.ndarray:
    """The training photographs' mean RGB (uint8 (3,)): the edges baseline paints every pixel with it."""
    return np.rint(
        np.mean([p.reshape(-1, 3).mean(axis=0) for p in data.bundled_images("train")], axis=0)
    ).astype(np.uint8)


def task_op(task: str) -> Callable | None:
    """The operation that makes a bundled-photo task's input from a photograph (None for folder tasks)."""
    ops = {
        "colorize": data.grayscale,
        "edges": data.edges,
        "super_resolution": data.blur,
        "inpaint": data.blank,
    }
    return ops.get(task)


class EpochMeanReward:
    """Mixin for a SupervisedEnv: the reward is 0 until an epoch's last step, which pays the epoch's mean of
    metrics[reward_key] over its examples, so an episode's return is the epoch's score (as rlkit.envs.gan)."""

    _epoch = (0.0, 0.0)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        self._epoch = (0.0, 0.0)
        return super().reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = super().step(action)
        n = info["metrics"]["count"]
        self._epoch = (self._epoch[0] + reward * n, self._epoch[1] + n)
        reward = self._epoch[0] / max(self._epoch[1], 1.0) if terminated else 0.0
        return obs, reward, terminated, truncated, info


class CropEpochs(EpochMeanReward):
    """Mixin for the translation envs: checks the crop arguments, and in training draws new random crops
    (self._random_crops) at each reset."""

    def _set_crops(
        self, tasks: tuple[str, ...], task: str, split: str, crop: int, crops_per_epoch: int, eval_crops: int
    ) -> None:
        check_choice("task", task, tasks)
        check_choice("split", split, SPLITS)
        for key, value in (
            ("crop", crop),
            ("crops_per_epoch", crops_per_epoch),
            ("eval_crops_per_image", eval_crops),
        ):
            check_positive(key, value)
        self.task, self.split, self.crop, self.crops_per_epoch = task, split, crop, crops_per_epoch

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Starts an epoch: in training, new random crops."""
        obs, info = super().reset(seed=seed, options=options)
        if self.split == "train":
            self.inputs, self.targets = self._random_crops(self.np_random)
            self._current = obs = self._obs()
        return obs, info


class Image2ImageEnv(CropEpochs, SupervisedEnv):
    """Paired image translation on crops (see the module docstring)."""

    samples_at_eval = True  # strips at each evaluation (rlkit.frontend.samples)
    reward_key = "psnr"
    headline = Headline("PSNR", "psnr", decimals=2)

    def __init__(
        self,
        task: str = "colorize",
        root: str | None = None,
        direction: str = "AtoB",
        split: str = "train",
        batch_size: int = 8,
        crop: int = 64,
        crops_per_epoch: int = 64,
        eval_crops_per_image: int = 4,
        render_mode: str | None = None,
    ):
        self._set_crops(TASKS, task, split, crop, crops_per_epoch, eval_crops_per_image)
        check_choice("direction", direction, DIRECTIONS)
        pairs, self.crop_op = task_data(task, split, root, direction)
        self.pairs = [(data.fit_crop(a, crop), data.fit_crop(b, crop)) for a, b in pairs]
        if split == "train":
            inputs, targets = self._random_crops(np.random.default_rng(0))
        else:
            inputs, targets = self._crops(*data.fixed_crop_pairs(self.pairs, crop, eval_crops_per_image))
        shape = (batch_size, 3, crop, crop)
        super().__init__(
            inputs,
            targets,
            batch_size,
            shuffle=False,
            observation_space=spaces.Box(0, 255, shape, np.uint8),
            action_space=spaces.Box(-1.0, 1.0, shape, np.float32),
            render_mode=render_mode,
        )

    def _crops(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.crop_op is not None:
            a = np.stack([self.crop_op(x) for x in a])
        return chw(a), chw(b)

    def _random_crops(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return self._crops(*data.random_crop_pairs(self.pairs, self.crops_per_epoch, self.crop, rng))

    # ----- scores -------------------------------------------------------------------------------------------
    def baseline(self, inputs: np.ndarray) -> np.ndarray:
        """The trivial answer to uint8 (N, 3, H, W) inputs (see the module docstring)."""
        if self.task == "inpaint":
            return chw(np.stack([fill_hole_with_mean(x) for x in hwc(inputs)]))
        if self.task == "edges":
            return np.broadcast_to(mean_colour()[:, None, None], inputs.shape).astype(np.uint8)
        return inputs

    def finish(self, inputs: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """The answer to uint8 (..., 3, H, W) inputs from the model's [-1, 1] output, uint8: for inpaint, the
        output inside the hole and the known pixels outside it (inpainting practice: the model fills it)."""
        out = to_uint8(pred)
        if self.task == "inpaint":
            top, left, h, w = data.hole_box(*inputs.shape[-2:])
            kept = inputs.copy()
            kept[..., top : top + h, left : left + w] = out[..., top : top + h, left : left + w]
            return kept
        return out

    def score(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        """Mean PSNR/SSIM of the real rows' translations, and of the baseline's. Training scores PSNR only:
        the headline (the reward and the live display) is all the runner reads from a training env."""
        rows, training = np.flatnonzero(mask), self.split == "train"
        if len(rows) == 0:
            return {"psnr": 0.0} if training else {"psnr": 0.0, "ssim": 0.0}
        out, ref = hwc(self.finish(self._current[rows], pred[rows])), hwc(target[rows])
        model = np.array([image_scores(p, t, ssim=not training) for p, t in zip(out, ref)])
        if training:
            return {"psnr": float(model[:, 0].mean())}
        base = hwc(self.baseline(self._current[rows]))  # constant: scored only where it is reported
        trivial = np.array([image_scores(p, t) for p, t in zip(base, ref)])
        return {
            "psnr": float(model[:, 0].mean()),
            "ssim": float(model[:, 1].mean()),
            "baseline_psnr": float(trivial[:, 0].mean()),
            "baseline_ssim": float(trivial[:, 1].mean()),
        }

    # ----- pictures -----------------------------------------------------------------------------------------
    def draw(
        self, obs: np.ndarray, target: np.ndarray, pred: np.ndarray | None, mask: np.ndarray
    ) -> np.ndarray:
        """Strips of the batch's first rows: input | output | target (output grey before any step; padded rows
        black), one size for every batch."""
        rows = np.arange(min(STRIP_ROWS, len(mask)))
        out = np.full_like(obs[rows], 128) if pred is None else self.finish(obs[rows], pred[rows])
        return strips(hwc(obs[rows]), hwc(out), hwc(target[rows]))

    def sample_grid(self, agent: Any) -> np.ndarray:
        """Strips of the first evaluation crops translated by the agent (the same crops every evaluation)."""
        inputs, targets = self.inputs[:STRIP_ROWS], self.targets[:STRIP_ROWS]
        out = agent.act(inputs[None], explore=False)[0]
        return strips(hwc(inputs), hwc(self.finish(inputs, out)), hwc(targets))

    def whole_images(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The held-out whole images as (input, target) uint8 (H, W, 3) pairs."""
        if self.crop_op is None:
            return list(self.pairs)
        return [(self.crop_op(a), b) for a, b in self.pairs]

    def rollout_files(self, agent: Any, out_dir: str | Path, prefix: str = "latest") -> list[Path]:
        """Translates the held-out whole images into <out_dir>/images/ and writes <out_dir>/index.html."""
        out_dir = Path(out_dir)
        rows, paths = [], []
        for k, (a, b) in enumerate(self.whole_images()):
            out = self.finish(chw(a), agent.act(chw(a)[None, None], explore=False)[0, 0])
            names = {}
            for kind, image in (("inputs", a), ("outputs", hwc(out)), ("targets", b)):
                names[kind] = f"images/{prefix}-{k:03d}-{kind}.png"
                paths.append(save_png(image, out_dir / names[kind]))
            rows.append((f"{k:03d}", names))
        paths.append(write_index(out_dir / "index.html", rows))
        return paths

    def translate_files(self, agent: Any, out_dir: str | Path, prefix: str, files: list[Path]) -> list[Path]:
        """`rlkit play run=... input=<image or folder>`: each image translated, with index.html. A
        bundled-photo task first applies its operation (a photo is greyed for colorize, blanked for inpaint,
        ...) and shows the photo as the target; a folder task translates the image as it is (no target)."""
        out_dir, rows, paths = Path(out_dir), [], []
        for file in files:
            image = data.fit_crop(data.read_image(file), 16)
            op = self.crop_op or task_op(self.task)
            a, b = (image, image) if op is None else (op(image), image)
            out = self.finish(chw(a), agent.act(chw(a)[None, None], explore=False)[0, 0])
            names = {}
            kinds = (("inputs", a), ("outputs", hwc(out)), ("targets", b if op is not None else None))
            for kind, picture in kinds:
                if picture is not None:
                    names[kind] = f"images/{prefix}-{file.stem}-{kind}.png"
                    paths.append(save_png(picture, out_dir / names[kind]))
            rows.append((file.stem, names))
        paths.append(write_index(out_dir / "index.html", rows))
        return paths
