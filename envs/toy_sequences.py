"""The book's chapter 13 sequence classification task: is a variable-length sequence linear or random?"""

from __future__ import annotations

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

CLASSES = ("linear", "random")


def toy_sequences(
    n_samples: int, max_seq_len: int, min_seq_len: int, max_value: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The book's ToySequenceData: (values (n, max_seq_len) zero-padded, lengths (n,), labels (n,)).

    Each sample has a length uniform in [min_seq_len, max_seq_len]; with probability 1/2 it is linear
    (class 0: consecutive integers from a random start, divided by max_value), else random (class 1: random
    integers in [0, max_value], divided by max_value).
    """
    values = np.zeros((n_samples, max_seq_len), dtype=np.float32)
    lengths = rng.integers(min_seq_len, max_seq_len + 1, size=n_samples)
    labels = (rng.random(n_samples) >= 0.5).astype(np.int64)
    for i, (n, label) in enumerate(zip(lengths, labels)):
        if label == 0:
            start = rng.integers(0, max_value - n + 1)
            values[i, :n] = np.arange(start, start + n) / max_value
        else:
            values[i, :n] = rng.integers(0, max_value + 1, size=n) / max_value
    return values, lengths, labels


class ToySequencesEnv(ClassificationEnv):
    """Classify number sequences as linear or random, one minibatch per step; an episode is one epoch.

    ## Description
    The book's ToySequenceData (chapter 13): `n_samples` sequences of length 3 to 20 with values in [0, 1],
    half of them linear runs i/1000, i/1000 + 0.001, ..., half random draws. The data are generated once
    from `data_seed` (default: 0 for the train split, 1 for the test split, so they differ).

    ## Observation Space
    Box(0, 1, (batch_size, max_seq_len, 2), float32): feature 0 is the zero-padded value, feature 1 is 1 on
    valid steps and 0 on padding (so a model can read the last valid step, as the book's `seqlen` does).

    ## Action Space
    MultiDiscrete([2] * batch_size): 0 = linear, 1 = random.

    ## Rewards
    The accuracy of the predictions on the real sequences of the minibatch, in [0, 1].

    ## Episode End
    Terminated after the last minibatch of the epoch (the last one is padded; `info["mask"]`).

    ## Arguments
    split ("train" | "test"), n_samples (1000; the book's test set has 500), batch_size (128), shuffle (None:
    True for train), max_seq_len (20), min_seq_len (3), max_value (1000), data_seed (None: by split),
    render_mode (None | "rgb_array": plots of the last minibatch's first 16 sequences with labels).
    """

    actions_ignored = True  # the epoch's minibatches do not depend on the answers (rlkit.core.vector)

    def __init__(
        self,
        split: str = "train",
        n_samples: int = 1000,
        batch_size: int = 128,
        shuffle: bool | None = None,
        max_seq_len: int = 20,
        min_seq_len: int = 3,
        max_value: int = 1000,
        data_seed: int | None = None,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        for key, value in (("n_samples", n_samples), ("min_seq_len", min_seq_len), ("max_value", max_value)):
            check_positive(key, value)
        if not min_seq_len <= max_seq_len <= max_value:
            raise UserError(
                f"env.kwargs: need min_seq_len <= max_seq_len <= max_value, got "
                f"{min_seq_len}, {max_seq_len}, {max_value}"
            )
        seed = SPLITS.index(split) if data_seed is None else data_seed
        values, lengths, labels = toy_sequences(
            n_samples, max_seq_len, min_seq_len, max_value, np.random.default_rng(seed)
        )
        valid = (np.arange(max_seq_len) < lengths[:, None]).astype(np.float32)
        inputs = np.stack([values, valid], axis=-1)
        obs_space = spaces.Box(0.0, 1.0, (batch_size, max_seq_len, 2), np.float32)
        shuffle = split == "train" if shuffle is None else shuffle
        super().__init__(inputs, labels, list(CLASSES), batch_size, shuffle, obs_space, render_mode)

    def draw(
        self, obs: np.ndarray, target: np.ndarray, pred: np.ndarray | None, mask: np.ndarray
    ) -> np.ndarray:
        """Line plots of the first 16 real sequences, captioned "true:predicted" class names."""
        from PIL import Image, ImageDraw  # Pillow: only when an image is drawn

        tiles, captions, colors = [], [], []
        for i in np.flatnonzero(mask)[:16]:
            n = int(obs[i, :, 1].sum())
            y = obs[i, :n, 0]
            img = Image.new("RGB", (120, 60), (245, 245, 245))
            pen = ImageDraw.Draw(img)
            points = [(4 + 112 * t / max(n - 1, 1), 56 - 52 * float(v)) for t, v in enumerate(y)]
            pen.line(points, fill=(30, 60, 200), width=1)
            for x, yy in points:
                pen.ellipse((x - 1, yy - 1, x + 1, yy + 1), fill=(30, 60, 200))
            tiles.append(np.asarray(img))
            p = None if pred is None else int(pred[i])
            captions.append(f"{CLASSES[target[i]][:3]}:{'?' if p is None else CLASSES[p][:3]} n={n}")
            colors.append(caption_color(target[i], p))
        return tile_grid(tiles, captions, colors, slots=min(16, len(mask)), cols=4)
