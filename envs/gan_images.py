"""GAN tasks on real image datasets (rlkit.envs.gan's ImageGanEnv): MNIST's idx files, any folder of images.

* `MnistGanEnv` (rlkit/MnistGan-v0, `env=mnist_gan env.kwargs.data_dir=DIR`): MNIST's 28x28 digits from the
  four idx files (envs/mnist.py's loader, plain or gzip; `download=true` fetches them), in [-1, 1]. The
  Frechet distance is taken on the 64 hidden units of the same small MLP classifier as digits_gan
  (rlkit.envs.gan_metrics.FeatureClassifier, random_state 0), trained on the first 10,000 training images
  and their labels the first time the env is made (deterministic: the same files give the same weights;
  ~30 CPU-seconds) and kept in ~/.cache/rlkit (gan_metrics.cached_classifier: later runs load it; nothing
  is downloaded); `frechet_floor` is the distance between 10,000
  real training images and the test split; the class histogram gives class_entropy and classes_covered.
* `ImageFolderGanEnv` (rlkit/ImageFolderGan-v0, `env=image_folder_gan env.kwargs.root=DIR`): every image
  file under `root` (recursively; png, jpg, jpeg, bmp, gif, webp, tif, tiff), centre-cropped to a square
  and resized to `size` x `size`, grey (`color=grey`) or RGB, in [-1, 1], split at random once
  (`test_fraction`, `split_seed`). Folders have no labels, so the Frechet distance is taken on a fixed
  random feature map (gan_metrics.RandomFeatures: 64 ReLU units of a seeded random layer on the pixels),
  which measures pixel statistics, not content: it compares runs on the same folder and size only; there
  is no class histogram.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs.gan import ImageGanEnv
from rlkit.envs.gan_metrics import (
    FeatureClassifier,
    RandomFeatures,
    cached_classifier,
    frechet_distance,
    to_unit,
)
from rlkit.envs.image_folder import IMAGE_SUFFIXES
from rlkit.envs.mnist import load_mnist
from rlkit.envs.supervised import SPLITS, check_choice, check_positive

CLASSIFIER_EXAMPLES = 10_000  # MNIST training images the feature classifier learns from
COLORS = ("grey", "rgb")


def check_limit(limit: int | None) -> None:
    if limit is not None:
        check_positive("limit", limit)


@functools.lru_cache(maxsize=2)
def mnist_classifier(data_dir: str) -> tuple[FeatureClassifier, float]:
    """(classifier trained on MNIST's first 10,000 training images, Frechet floor: those vs the test set)."""
    train, labels = load_mnist(data_dir, "train")
    test, _ = load_mnist(data_dir, "test")
    train, labels, test = to_unit(train[:CLASSIFIER_EXAMPLES]), labels[:CLASSIFIER_EXAMPLES], to_unit(test)
    clf = cached_classifier(train, labels)
    return clf, frechet_distance(clf.features(train), clf.features(test))


class MnistGanEnv(ImageGanEnv):
    """MNIST's 28x28 digits in [-1, 1], scored by a digit classifier trained on MNIST (module docstring).

    Arguments: split ("train" | "test"), batch_size (128), data_dir (the folder of the four idx files),
    download (False), limit (None: the whole split; N: its first N images), render_mode (None | "rgb_array").
    """

    def __init__(
        self,
        split: str = "train",
        batch_size: int = 128,
        data_dir: str = "MNIST_data",
        download: bool = False,
        limit: int | None = None,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        check_limit(limit)
        images, _ = load_mnist(data_dir, split, download)
        classifier, floor = mnist_classifier(str(Path(data_dir).expanduser().resolve()))
        self._setup_images(to_unit(images[:limit]), classifier, floor, split, batch_size, render_mode)


def load_image(path: Path, size: int, color: str) -> np.ndarray:
    """One image file, centre-cropped to a square, resized to size x size: uint8 (C, size, size)."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # Pillow: only when an image folder is read

    try:
        with Image.open(path) as image:
            image = ImageOps.fit(image.convert("L" if color == "grey" else "RGB"), (size, size))
    except (OSError, UnidentifiedImageError) as err:
        raise UserError(f"{path} is not a readable image ({err}); remove it or fix it") from err
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels[None] if color == "grey" else pixels.transpose(2, 0, 1)


@functools.lru_cache(maxsize=2)
def load_image_folder(root: str, size: int, color: str) -> np.ndarray:
    """Every image under `root`, sorted by path: uint8 (N, C, size, size)."""
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise UserError(f"image folder not found: {folder}: set env.kwargs.root=<a folder of images>")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise UserError(f"{folder} holds no images: expected files ending in {', '.join(IMAGE_SUFFIXES)}")
    images = np.stack([load_image(p, size, color) for p in files])
    images.flags.writeable = False
    return images


def split_rows(n: int, split: str, test_fraction: float, split_seed: int) -> np.ndarray:
    """The rows of a fixed random split: the first `test_fraction` of a seeded permutation are for test."""
    order = np.random.default_rng(split_seed).permutation(n)
    n_test = round(n * test_fraction)
    return order[n_test:] if split == "train" else order[:n_test]


class ImageFolderGanEnv(ImageGanEnv):
    """Any folder of images, resized, in [-1, 1], scored on fixed random features (module docstring).

    Arguments: root (the folder), size (32: images become size x size, divisible by 4 for agent.arch=dcgan),
    color ("rgb" | "grey"), split ("train" | "test"), batch_size (128), test_fraction (0.2), split_seed (0),
    limit (None: the whole split; N: its first N images), render_mode (None | "rgb_array").
    """

    headline = Headline("random-feature Frechet", "frechet", higher_is_better=False, decimals=2)
    invert = False

    def __init__(
        self,
        root: str | None = None,
        size: int = 32,
        color: str = "rgb",
        split: str = "train",
        batch_size: int = 128,
        test_fraction: float = 0.2,
        split_seed: int = 0,
        limit: int | None = None,
        render_mode: str | None = None,
    ):
        if not root:
            raise UserError("env=image_folder_gan needs a folder of images: set env.kwargs.root=<folder>")
        check_choice("color", color, COLORS)
        check_choice("split", split, SPLITS)
        check_limit(limit)
        if size < 4:
            raise UserError(f"env.kwargs.size={size} is invalid: it must be >= 4")
        if not 0.0 < test_fraction < 1.0:
            raise UserError(f"env.kwargs.test_fraction={test_fraction} is invalid: it must be in (0, 1)")
        images = to_unit(load_image_folder(str(Path(root).expanduser().resolve()), size, color))
        train, test = (images[split_rows(len(images), s, test_fraction, split_seed)] for s in SPLITS)
        if min(len(train), len(test)) < 2:
            raise UserError(
                f"{root} holds {len(images)} images: a train and a test split of at least 2 each need more "
                f"(env.kwargs.test_fraction={test_fraction})"
            )
        features = RandomFeatures(images.shape[1:])
        floor = frechet_distance(features.features(train), features.features(test))
        chosen = train if split == "train" else test
        self._setup_images(chosen[:limit], features, floor, split, batch_size, render_mode)
