"""The book's chapter 2 CIFAR-10 task: the binary batch reader, the book's augmentation, an offline stand-in.

Real data: `data_dir` holds the binary version's files (data_batch_1.bin ... data_batch_5.bin, test_batch.bin,
directly or in cifar-10-batches-bin/): 3073-byte records, 1 label byte then 3072 pixel bytes (1024 red, 1024
green, 1024 blue, rows of 32). Without `data_dir` the task uses a generated stand-in, "shapes": 10 classes of
white-outlined or filled shapes (disc, square, triangle, cross, ring, frame, horizontal bar, vertical bar,
diagonal, two dots) drawn at random positions, sizes and colours on noisy coloured backgrounds, 32x32 RGB -
not CIFAR-10 and much easier; it only shows the pipeline working offline.
Like the book's cifar10_input: training images are randomly cropped to 24x24, flipped left-right with
probability 1/2, their brightness shifted by U(-63, 63) and their contrast scaled by U(0.2, 1.8); test images
are centre-cropped; every image is then standardised (per_image_standardization), so observations are
float32 (batch, 3, 24, 24).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.envs.supervised import SPLITS, ClassificationEnv, check_choice, check_positive

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SHAPES = ("disc", "square", "triangle", "cross", "ring", "frame", "hbar", "vbar", "diagonal", "dots")
RECORD = 3073
CROP = 24


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, 3, 32, 32), labels int64 (n,)) of one binary batch file; UserError if malformed."""
    path = Path(path)
    expected = "CIFAR-10 binary records of 3073 bytes (1 label byte 0-9, then 3072 pixel bytes)"
    if not path.is_file():
        raise UserError(f"env.kwargs.data_dir: {path} not found (expected {expected})")
    data = np.fromfile(path, dtype=np.uint8)
    if len(data) == 0 or len(data) % RECORD:
        raise UserError(f"{path}: {len(data)} bytes is not a whole number of records (expected {expected})")
    records = data.reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise UserError(f"{path}: label byte {labels.max()} out of range (expected {expected})")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def load_cifar10(data_dir: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The train (data_batch_1-5.bin) or test (test_batch.bin) split of a CIFAR-10 binary folder."""
    folder = Path(data_dir).expanduser()
    if (folder / "cifar-10-batches-bin").is_dir():
        folder = folder / "cifar-10-batches-bin"
    names = [f"data_batch_{k}.bin" for k in range(1, 6)] if split == "train" else ["test_batch.bin"]
    parts = [read_cifar_batch(folder / name) for name in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def shapes_dataset(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The offline stand-in: n 32x32 RGB images of 10 shape classes (see the module docstring)."""
    from PIL import Image, ImageDraw  # Pillow: only when an image is drawn

    labels = rng.integers(0, 10, n)
    images = np.empty((n, 3, 32, 32), dtype=np.uint8)
    for i, label in enumerate(labels):
        bg = rng.integers(0, 120, 3)
        img = Image.new("RGB", (32, 32), tuple(int(c) for c in bg))
        pen = ImageDraw.Draw(img)
        color = tuple(int(c) for c in rng.integers(130, 256, 3))
        r = int(rng.integers(6, 11))
        cx, cy = (int(c) for c in rng.integers(4 + r, 28 - r + 1, 2))
        box = (cx - r, cy - r, cx + r, cy + r)
        shape = SHAPES[label]
        if shape == "disc":
            pen.ellipse(box, fill=color)
        elif shape == "square":
            pen.rectangle(box, fill=color)
        elif shape == "triangle":
            pen.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=color)
        elif shape == "cross":
            pen.line((cx - r, cy, cx + r, cy), fill=color, width=3)
            pen.line((cx, cy - r, cx, cy + r), fill=color, width=3)
        elif shape == "ring":
            pen.ellipse(box, outline=color, width=2)
        elif shape == "frame":
            pen.rectangle(box, outline=color, width=2)
        elif shape == "hbar":
            pen.rectangle((cx - r, cy - 2, cx + r, cy + 2), fill=color)
        elif shape == "vbar":
            pen.rectangle((cx - 2, cy - r, cx + 2, cy + r), fill=color)
        elif shape == "diagonal":
            pen.line(box, fill=color, width=3)
        else:
            pen.ellipse((cx - r, cy - 2, cx - r + 4, cy + 2), fill=color)
            pen.ellipse((cx + r - 4, cy - 2, cx + r, cy + 2), fill=color)
        arr = np.asarray(img, dtype=np.int16) + rng.integers(-20, 21, (32, 32, 3))
        images[i] = np.clip(arr, 0, 255).astype(np.uint8).transpose(2, 0, 1)
    return images, labels.astype(np.int64)


def standardize(x: np.ndarray) -> np.ndarray:
    """TF's per_image_standardization: (x - mean) / max(std, 1/sqrt(pixels)) per image of (N, C, H, W)."""
    x = x.astype(np.float32)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    return (x - mean) / np.maximum(std, 1.0 / np.sqrt(x[0].size))


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The book's distorted_inputs on (N, 3, 32, 32): random 24x24 crop, flip, brightness, contrast."""
    n = len(x)
    out = np.empty((n, 3, CROP, CROP), dtype=np.float32)
    tops, lefts = rng.integers(0, 32 - CROP + 1, n), rng.integers(0, 32 - CROP + 1, n)
    for i in range(n):
        img = x[i, :, tops[i] : tops[i] + CROP, lefts[i] : lefts[i] + CROP].astype(np.float32)
        if rng.random() < 0.5:
            img = img[:, :, ::-1]
        img = img + rng.uniform(-63, 63)
        mean = img.mean(axis=(1, 2), keepdims=True)  # contrast: per channel, around its mean (as TF)
        out[i] = (img - mean) * rng.uniform(0.2, 1.8) + mean
    return out


def center_crop(x: np.ndarray) -> np.ndarray:
    """The central 24x24 of (N, 3, 32, 32) images."""
    o = (32 - CROP) // 2
    return x[:, :, o : o + CROP, o : o + CROP]


class Cifar10Env(ClassificationEnv):
    """CIFAR-10 (or the offline stand-in) in minibatches with the book's augmentation; episode = one epoch.

    ## Arguments
    data_dir (None: the generated "shapes" stand-in), split ("train" | "test"), batch_size (128, the book's),
    n_samples (stand-in images per split: 5000 train / the same number for test), augment (None: True for
    train), shuffle (None: True for train), data_seed (None: 0 train, 1 test).
    """

    actions_ignored = True  # the epoch's minibatches do not depend on the answers (rlkit.core.vector)

    metadata = {"render_modes": [], "render_fps": 1}

    def __init__(
        self,
        data_dir: str | None = None,
        split: str = "train",
        batch_size: int = 128,
        n_samples: int = 5000,
        augment: bool | None = None,
        shuffle: bool | None = None,
        data_seed: int | None = None,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        check_positive("n_samples", n_samples)
        if data_dir:
            images, labels = load_cifar10(data_dir, split)
            names = list(CLASSES)
        else:
            seed = SPLITS.index(split) if data_seed is None else data_seed
            images, labels = shapes_dataset(n_samples, np.random.default_rng(seed))
            names = list(SHAPES)
        self.augment = split == "train" if augment is None else augment
        big = np.finfo(np.float32).max  # finite bounds: Gymnasium's checker warns about infinite ones
        obs_space = spaces.Box(-big, big, (batch_size, 3, CROP, CROP), np.float32)
        shuffle = split == "train" if shuffle is None else shuffle
        super().__init__(images, labels, names, batch_size, shuffle, obs_space, render_mode)

    def _obs(self) -> np.ndarray:
        """The minibatch, augmented (train) or centre-cropped (test), standardised; padding rows stay 0."""
        rows = self._rows()
        raw = self.inputs[rows]
        x = augment(raw, self.np_random) if self.augment else center_crop(raw).astype(np.float32)
        out = np.zeros(self.observation_space.shape, dtype=np.float32)
        out[: len(rows)] = standardize(x)
        return out
