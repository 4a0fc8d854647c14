"""Fast style transfer as a task (book chapter 7): photos in, the same photos in one style out.

Each step shows a minibatch of content crops; the action is the stylised minibatch (floats in [0, 1], same
shape); `info["targets"]` reveals the content crops (as floats) and `info["style"]` the style image, so a
fast-style agent (rlkit.agents.fast_style_agent) computes its perceptual loss with its own loss network.
The env's own score needs no network: `style_distance`, the squared distance between the per-channel mean
and standard deviation of the stylised images and those of the style image (colour statistics: lower is
better, the headline; not the perceptual loss), and `content_change`, the mean absolute change per pixel.
An episode is one epoch of crops.

Photos: scikit-learn's bundled china.jpg (default; training crops from its left two thirds, test crops from
the right third) or every image of a folder (`root=`); style: scikit-learn's flower.jpg or an image file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs.image_folder import fit_square, image_files, load_image
from rlkit.envs.supervised import SPLITS, SupervisedEnv, check_choice, check_positive

BUNDLED = ("china.jpg", "flower.jpg")  # scikit-learn's sample images, inside its wheel


def read_photo(name: str, size: int) -> np.ndarray:
    """uint8 (3, size, size): a bundled sample image by name, else an image file by path."""
    if name in BUNDLED:
        from PIL import Image  # Pillow and scikit-learn: only when the env is made
        from sklearn.datasets import load_sample_image

        return fit_square(Image.fromarray(load_sample_image(name)), size)
    path = Path(name).expanduser()
    if not path.is_file():
        raise UserError(f"env.kwargs.style={name}: no such image (or one of {', '.join(BUNDLED)})")
    return load_image(path, size)


def colour_stats(images: np.ndarray) -> np.ndarray:
    """(N, 6): per-channel mean and standard deviation of (N, 3, H, W) images in [0, 1]."""
    return np.concatenate([images.mean(axis=(2, 3)), images.std(axis=(2, 3))], axis=1)


class StylePhotosEnv(SupervisedEnv):
    """Content crops to stylise, one minibatch per step; an episode is one epoch.

    ## Arguments
    root (None: china.jpg), style ("flower.jpg": bundled, or a path), split ("train" | "test"),
    image_size (64), n_crops (256 per split from china.jpg; with root: one centre crop per image),
    batch_size (4, the book's), shuffle (None: True for train), data_seed (None: 0 train, 1 test).
    """

    reward_key = "neg_style_distance"
    headline = Headline("colour style distance", "style_distance", higher_is_better=False, decimals=4)

    def __init__(
        self,
        root: str | None = None,
        style: str = "flower.jpg",
        split: str = "train",
        image_size: int = 64,
        n_crops: int = 256,
        batch_size: int = 4,
        shuffle: bool | None = None,
        data_seed: int | None = None,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        check_positive("image_size", image_size)
        check_positive("n_crops", n_crops)
        s = image_size
        if root:
            files = image_files(Path(root).expanduser()) if Path(root).expanduser().is_dir() else []
            if not files:
                raise UserError(f"env.kwargs.root={root}: no images there (a folder of jpg/png photos)")
            crops = np.stack([load_image(f, s) for f in files])
        else:
            photo = read_photo("china.jpg", 4 * s)  # (3, 4s, 4s): train from the left 2/3, test the rest
            split_x = photo.shape[2] * 2 // 3
            lo, hi = (0, split_x - s) if split == "train" else (split_x, photo.shape[2] - s)
            rng = np.random.default_rng(SPLITS.index(split) if data_seed is None else data_seed)
            tops, lefts = rng.integers(0, photo.shape[1] - s + 1, n_crops), rng.integers(lo, hi + 1, n_crops)
            crops = np.stack([photo[:, t : t + s, x : x + s] for t, x in zip(tops, lefts)])
        self.style = read_photo(style, s).astype(np.float32) / 255.0
        self.style_stats = colour_stats(self.style[None])[0]
        obs_space = spaces.Box(0, 255, (batch_size, 3, s, s), np.uint8)
        act_space = spaces.Box(0.0, 1.0, (batch_size, 3, s, s), np.float32)
        shuffle = split == "train" if shuffle is None else shuffle
        targets = crops.astype(np.float32) / 255.0
        super().__init__(crops, targets, batch_size, shuffle, obs_space, act_space, render_mode)

    def read_images(self, paths: list[Path]) -> np.ndarray:
        """Image files as content images: uint8 (N, 3, image_size, image_size), centre-cropped."""
        return np.stack([load_image(Path(p), self.observation_space.shape[-1]) for p in paths])

    def step(self, action):
        """As SupervisedEnv.step, with the style image revealed in info["style"]."""
        obs, reward, terminated, truncated, info = super().step(action)
        info["style"] = self.style
        return obs, reward, terminated, truncated, info

    def score(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        """style_distance (colour statistics against the style image) and content_change of the real rows."""
        pred, target = np.clip(pred[mask], 0, 1), target[mask]
        dist = float(((colour_stats(pred) - self.style_stats) ** 2).sum(axis=1).mean()) if len(pred) else 0.0
        change = float(np.abs(pred - target).mean()) if len(pred) else 0.0
        return {"style_distance": dist, "neg_style_distance": -dist, "content_change": change}
