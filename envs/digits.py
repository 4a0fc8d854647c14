"""Handwritten digits as a supervised env (book chapter 1): scikit-learn's 8x8 digits offline, or MNIST."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.envs.mnist import load_mnist, load_sklearn_digits
from rlkit.envs.supervised import (
    SPLITS,
    ClassificationEnv,
    caption_color,
    check_choice,
    check_positive,
    tile_grid,
)

DATASETS = ("digits", "mnist")


class DigitsEnv(ClassificationEnv):
    """Classify handwritten digits, one minibatch per step; an episode is one epoch of the split.

    ## Description
    `dataset="digits"` (the offline default) is scikit-learn's 1,797 8x8 digits, split at random once
    (`split_seed`) into 80% train and 20% test. `dataset="mnist"` reads MNIST's idx files from `data_dir`
    (60,000 train, 10,000 test; downloaded there only with `download=True`).

    ## Observation Space
    Box(0, 255, (batch_size, 1, H, W), uint8): H = W = 8 (digits) or 28 (MNIST). The last minibatch of an
    epoch is zero-padded; `info["mask"]` marks the real images.

    ## Action Space
    MultiDiscrete([10] * batch_size): the predicted digit of each image.

    ## Rewards
    The accuracy of the predictions on the real images of the minibatch, in [0, 1].

    ## Episode End
    Terminated after the last minibatch of the epoch. Never truncated.

    ## Arguments
    dataset ("digits" | "mnist"), split ("train" | "test"), batch_size (100), shuffle (None: True for train,
    False for test), data_dir (MNIST's folder), download (False), limit (None: all examples; N: the first N of
    the split), test_fraction and split_seed (digits only), render_mode (None | "rgb_array": a grid of the
    last minibatch's first 32 images with true and predicted labels).
    """

    actions_ignored = True  # the epoch's minibatches do not depend on the answers (rlkit.core.vector)

    def __init__(
        self,
        dataset: str = "digits",
        split: str = "train",
        batch_size: int = 100,
        shuffle: bool | None = None,
        data_dir: str = "MNIST_data",
        download: bool = False,
        limit: int | None = None,
        test_fraction: float = 0.2,
        split_seed: int = 0,
        classes: list[int] | None = None,
        render_mode: str | None = None,
    ):
        check_choice("dataset", dataset, DATASETS)
        check_choice("split", split, SPLITS)
        if limit is not None:
            check_positive("limit", limit)
        if not 0.0 < test_fraction < 1.0:
            raise UserError(f"env.kwargs.test_fraction={test_fraction} is invalid: it must be in (0, 1)")
        if dataset == "mnist":
            images, labels = load_mnist(data_dir, split, download)
        else:
            images, labels = load_sklearn_digits(split, test_fraction, split_seed)
        names = [str(d) for d in range(10)]
        if classes is not None:
            images, labels, names = select_classes(images, labels, classes)
        images, labels = images[:limit], labels[:limit]
        self.dataset = dataset
        obs_space = spaces.Box(0, 255, (batch_size, *images.shape[1:]), np.uint8)
        shuffle = split == "train" if shuffle is None else shuffle
        super().__init__(images, labels, names, batch_size, shuffle, obs_space, render_mode)

    def draw(
        self, obs: np.ndarray, target: np.ndarray, pred: np.ndarray | None, mask: np.ndarray
    ) -> np.ndarray:
        """The first 32 real images of the minibatch, captioned "true:predicted" (green right, red wrong)."""
        rows = np.flatnonzero(mask)[:32]
        zoom = max(1, 48 // obs.shape[-1])
        tiles, captions, colors = [], [], []
        for i in rows:
            gray = np.kron(obs[i, 0], np.ones((zoom, zoom), dtype=np.uint8))
            tiles.append(np.repeat(255 - gray[..., None], 3, axis=2))  # dark ink on white, as on paper
            p = None if pred is None else int(pred[i])
            captions.append(f"{self.class_names[int(target[i])]}:{'?' if p is None else self.class_names[p]}")
            colors.append(caption_color(target[i], p))
        return tile_grid(tiles, captions, colors, slots=min(32, len(mask)))


def select_classes(
    images: np.ndarray, labels: np.ndarray, classes: list[int]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The examples of the digits `classes`, relabelled 0..k-1 in the order given, and their names."""
    classes = [int(c) for c in classes]
    if not classes or len(set(classes)) != len(classes) or not all(0 <= c <= 9 for c in classes):
        raise UserError(f"env.kwargs.classes={classes} is invalid: it must list distinct digits 0-9")
    keep = np.isin(labels, classes)
    relabel = np.full(10, -1, dtype=np.int64)
    relabel[classes] = np.arange(len(classes))
    return images[keep], relabel[labels[keep]], [str(c) for c in classes]
