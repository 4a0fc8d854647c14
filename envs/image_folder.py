"""Your own images as a classification task (chapter 3's `pic/train/<class>/*.jpg`): one folder per class.

Layouts of `root`:

* `root/train/<class>/*` and `root/validation/<class>/*` (or `root/test/`): the book's, splits as given;
* `root/<class>/*`: one set, split at random once per class (`test_fraction`, `split_seed`).

Class names are the sub-folder names, sorted (label k is the k-th). Images (IMAGE_SUFFIXES: png, jpg, jpeg,
bmp, gif, ppm, pgm, tif, tiff, webp) are read with Pillow as RGB when the env is made, resized to
`image_size / central_fraction` and kept as uint8. Preprocessing as the book's Inception preprocessing does
it, simplified: training images are a random `image_size` crop of that, flipped left-right with probability
1/2 (`flip`); test images are the central crop (the book's `central_fraction` 0.875). Observations: uint8
(batch, 3, image_size, image_size).
`read_images` prepares any image files the same way as test images (`rlkit play run= input=<image>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.envs.supervised import (
    SPLITS,
    ClassificationEnv,
    caption_color,
    check_choice,
    check_positive,
    tile_grid,
)

# the image files rlkit reads (with Pillow), here and wherever a folder of images is read
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
TEST_FOLDERS = ("validation", "test")


def image_files(folder: Path) -> list[Path]:
    """The image files directly in `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def class_folders(folder: Path) -> list[Path]:
    """The sub-folders of `folder` (one per class), sorted; UserError when there are fewer than two."""
    found = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(found) < 2:
        raise UserError(
            f"env.kwargs.root={folder}: found {len(found)} class folder(s); expected one sub-folder per "
            "class "
            "(at least two), each holding that class's images (jpg, png, ...)"
        )
    return found


def fit_square(img: Any, size: int) -> np.ndarray:
    """A Pillow RGB image as uint8 (3, size, size): resized (shorter side to `size`), centre-cropped."""
    from PIL import Image  # Pillow: only when images are read

    w, h = img.size
    scale = size / min(w, h)
    img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    arr = np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)
    return arr.transpose(2, 0, 1).copy()


def load_image(path: Path, size: int) -> np.ndarray:
    """One image file as uint8 RGB (3, size, size): resized (shorter side) and centre-cropped to a square."""
    from PIL import Image  # Pillow: only when images are read

    try:
        with Image.open(path) as img:
            return fit_square(img.convert("RGB"), size)
    except OSError as err:
        raise UserError(f"{path}: cannot be read as an image ({err})") from err


def split_files(
    root: Path, split: str, test_fraction: float, split_seed: int
) -> tuple[list[str], list[Path], list[int]]:
    """(class names, files, labels) of one split of `root` (see the module docstring for the layouts)."""
    if not root.is_dir():
        raise UserError(f"env.kwargs.root={root}: no such folder (expected one sub-folder per class)")
    test_dir = next((root / t for t in TEST_FOLDERS if (root / t).is_dir()), None)
    given = (root / "train").is_dir() and test_dir is not None
    folders = class_folders((root / "train" if split == "train" else test_dir) if given else root)
    per_class = [image_files(c) for c in folders]
    for c, found in zip(folders, per_class):
        if not found:
            raise UserError(f"class folder {c} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    if given:
        files = [(f, k) for k, found in enumerate(per_class) for f in found]
    else:
        rng = np.random.default_rng(split_seed)
        files = []
        for k, found in enumerate(per_class):
            order = rng.permutation(len(found))
            n_test = max(1, round(len(found) * test_fraction)) if len(found) > 1 else 0
            rows = order[n_test:] if split == "train" else order[:n_test]
            files += [(found[i], k) for i in sorted(rows)]
    if not files:
        raise UserError(f"env.kwargs.root={root}: the {split} split holds no images")
    return [c.name for c in folders], [f for f, _ in files], [k for _, k in files]


class ImageFolderEnv(ClassificationEnv):
    """Classify the images of a folder tree, one minibatch per step; an episode is one epoch of the split.

    ## Observation Space
    Box(0, 255, (batch_size, 3, image_size, image_size), uint8); the last minibatch is zero-padded
    (`info["mask"]` marks the real images).

    ## Action Space
    MultiDiscrete([n_classes] * batch_size): the predicted class of each image.

    ## Rewards
    The accuracy of the minibatch's predictions. Episode end: after the last minibatch of the epoch.

    ## Arguments
    root (required), split ("train" | "test"), image_size (64), central_fraction (0.875), flip (None: True
    for train), batch_size (32, the book's), shuffle (None: True for train), test_fraction (0.2) and
    split_seed (0) for a root without train/validation folders, render_mode (None | "rgb_array").
    """

    def __init__(
        self,
        root: str | None = None,
        split: str = "train",
        image_size: int = 64,
        central_fraction: float = 0.875,
        flip: bool | None = None,
        batch_size: int = 32,
        shuffle: bool | None = None,
        test_fraction: float = 0.2,
        split_seed: int = 0,
        render_mode: str | None = None,
    ):
        if not root:
            raise UserError("env=image_folder needs env.kwargs.root=<folder with one sub-folder per class>")
        check_choice("split", split, SPLITS)
        check_positive("image_size", image_size)
        if not 0.0 < central_fraction <= 1.0 or not 0.0 < test_fraction < 1.0:
            raise UserError(
                f"env.kwargs.central_fraction={central_fraction} and test_fraction={test_fraction}: "
                "central_fraction must be in (0, 1], test_fraction in (0, 1)"
            )
        names, self.files, labels = split_files(Path(root).expanduser(), split, test_fraction, split_seed)
        self.image_size = image_size
        self.stored_size = max(image_size, round(image_size / central_fraction))
        images = np.stack([load_image(f, self.stored_size) for f in self.files])
        self.flip = split == "train" if flip is None else flip
        self.random_crop = split == "train"
        obs_space = spaces.Box(0, 255, (batch_size, 3, image_size, image_size), np.uint8)
        shuffle = split == "train" if shuffle is None else shuffle
        super().__init__(images, np.asarray(labels), names, batch_size, shuffle, obs_space, render_mode)

    def _crop(self, images: np.ndarray, random: bool) -> np.ndarray:
        s, out = self.image_size, np.empty((len(images), 3, self.image_size, self.image_size), np.uint8)
        span = self.stored_size - s
        for i, img in enumerate(images):
            top, left = self.np_random.integers(0, span + 1, 2) if random else (span // 2, span // 2)
            crop = img[:, top : top + s, left : left + s]
            out[i] = crop[:, :, ::-1] if self.flip and random and self.np_random.random() < 0.5 else crop
        return out

    def _obs(self) -> np.ndarray:
        """The minibatch: random crops and flips (train) or central crops (test); padding rows stay 0."""
        rows = self._rows()
        out = np.zeros(self.observation_space.shape, dtype=np.uint8)
        out[: len(rows)] = self._crop(self.inputs[rows], self.random_crop)
        return out

    def read_images(self, paths: list[Path]) -> np.ndarray:
        """Image files prepared as test images: uint8 (N, 3, image_size, image_size)."""
        return self._crop(np.stack([load_image(Path(p), self.stored_size) for p in paths]), random=False)

    def draw(
        self, obs: np.ndarray, target: np.ndarray, pred: np.ndarray | None, mask: np.ndarray
    ) -> np.ndarray:
        """The first 16 real images of the minibatch, captioned "true:predicted" (green right, red wrong)."""
        tiles, captions, colors = [], [], []
        for i in np.flatnonzero(mask)[:16]:
            p = None if pred is None else int(pred[i])
            tiles.append(obs[i].transpose(1, 2, 0))
            guess = "?" if p is None else self.class_names[p]
            captions.append(f"{self.class_names[int(target[i])]}:{guess}"[:14])
            colors.append(caption_color(target[i], p))
        return tile_grid(tiles, captions, colors, slots=min(16, len(mask)), cols=4)
