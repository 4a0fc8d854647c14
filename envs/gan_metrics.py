"""Quality metrics and pictures of generated samples (rlkit.envs.gan).

* 2-D mixtures (the mode-collapse test of the Unrolled-GAN and VEEGAN papers): a sample is *high quality*
  when it lies within 3 standard deviations of its nearest mode; a mode is *covered* when at least
  `min_per_mode` high-quality samples are nearest to it.
* Images: a Frechet distance between Gaussians fitted to features of real and of generated images,
  ||mu_r - mu_g||^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2)), as FID computes it, but on the 64 hidden ReLU units
  of a small MLP classifier (scikit-learn's MLPClassifier, 64 hidden units, random_state 0) trained on the
  env's real training images, not on Inception features: so it is not FID, and its values compare only runs
  of the same env and split. Also the generated images' class histogram under that classifier: its entropy
  in bits (log2 10 = 3.32 for all digits equally often) and how many of the 10 classes occur at all.
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from rlkit.envs.mnist import load_sklearn_digits

WEIGHT_KEYS = ("w1", "b1", "w2", "b2", "labels")  # a FeatureClassifier's weights


def mode_metrics(
    points: np.ndarray, modes: np.ndarray, std: float, min_per_mode: int = 1
) -> dict[str, float]:
    """{"modes_covered", "high_quality"} of 2-D points (N, 2) against mode centres (M, 2) of std `std`."""
    if len(points) == 0:
        return {"modes_covered": 0.0, "high_quality": 0.0}
    dist = np.linalg.norm(points[:, None, :] - modes[None, :, :], axis=2)
    nearest, near = dist.argmin(axis=1), dist.min(axis=1) <= 3 * std
    counts = np.bincount(nearest[near], minlength=len(modes))
    return {"modes_covered": float((counts >= min_per_mode).sum()), "high_quality": float(near.mean())}


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Frechet distance between Gaussians fitted to feature rows a (N, D) and b (M, D)."""
    from scipy import linalg  # SciPy (scikit-learn's dependency): only when a distance is computed

    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eye = np.eye(len(cov_a)) * 1e-6  # dead ReLU units make the covariances singular: a tiny offset, as FID's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = linalg.sqrtm((cov_a + eye) @ (cov_b + eye))
    root = root.real if np.iscomplexobj(root) else root
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))
    return max(value, 0.0)


class FeatureClassifier:
    """A 64-unit MLP classifier of flattened images in [-1, 1] (scikit-learn's MLPClassifier, random_state
    `seed`); `features` are its hidden ReLU units. Given `weights` (a trained one's `.weights`): no fit."""

    def __init__(
        self, images: np.ndarray, labels: np.ndarray, seed: int = 0, weights: dict[str, Any] | None = None
    ):
        if weights is None:
            from sklearn.exceptions import ConvergenceWarning  # scikit-learn: only when an image env is made
            from sklearn.neural_network import MLPClassifier

            model = MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(images.reshape(len(images), -1), labels)
            weights = {"w1": model.coefs_[0], "b1": model.intercepts_[0], "w2": model.coefs_[1]}
            weights.update(b2=model.intercepts_[1], labels=model.classes_)
        self.weights = {k: np.asarray(v) for k, v in weights.items()}

    def features(self, images: np.ndarray) -> np.ndarray:
        """The hidden layer's activations, (N, 64)."""
        x = images.reshape(len(images), -1).astype(np.float64)
        return np.maximum(x @ self.weights["w1"] + self.weights["b1"], 0.0)

    def classes(self, images: np.ndarray) -> np.ndarray:
        """The predicted class of each image (the largest output, as MLPClassifier.predict)."""
        out = self.features(images) @ self.weights["w2"] + self.weights["b2"]
        best = (out[:, 0] > 0).astype(int) if out.shape[1] == 1 else out.argmax(axis=1)
        return self.weights["labels"][best]


def cache_dir() -> Path:
    """Where trained feature classifiers are kept: $XDG_CACHE_HOME/rlkit (default ~/.cache/rlkit)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rlkit"


def cached_classifier(images: np.ndarray, labels: np.ndarray) -> FeatureClassifier:
    """FeatureClassifier(images, labels), trained once per data set: its weights are kept in cache_dir()
    under the SHA-256 of the images, the labels and scikit-learn's version (the same data and version train
    the same weights), so a later run loads them. An unreadable cache file is retrained; one that cannot be
    written is skipped."""
    import sklearn

    digest = hashlib.sha256(f"mlp64-v1 {sklearn.__version__} {images.shape}".encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    path = cache_dir() / f"gan_classifier_{digest.hexdigest()[:24]}.npz"
    try:
        with np.load(path, allow_pickle=False) as saved:
            return FeatureClassifier(images, labels, weights={k: saved[k] for k in WEIGHT_KEYS})
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        pass
    clf = FeatureClassifier(images, labels)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **clf.weights)
        os.replace(tmp, path)
    except OSError:
        pass
    return clf


@functools.lru_cache(maxsize=4)
def digits_classifier(split_seed: int, test_fraction: float) -> tuple[FeatureClassifier, float]:
    """(classifier trained on the digits' train split, Frechet distance real train vs test: the floor)."""
    train, train_labels = load_sklearn_digits("train", test_fraction, split_seed)
    test, _ = load_sklearn_digits("test", test_fraction, split_seed)
    train, test = to_unit(train), to_unit(test)
    clf = FeatureClassifier(train, train_labels)
    return clf, frechet_distance(clf.features(train), clf.features(test))


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 images in [0, 255] as float32 in [-1, 1] (CS231n's preprocessing)."""
    return (images.astype(np.float32) / 127.5 - 1.0).astype(np.float32)


class RandomFeatures:
    """A fixed feature map for images without labels: the 64 ReLU units of one random linear layer on the
    flattened image in [-1, 1], relu(x W / sqrt(d)), W ~ N(0, 1) drawn from `seed` (d: the image's pixel
    count): an untrained, seeded network. It sees pixel statistics (brightness, colour, layout), not
    semantics, so its Frechet distance says how far the generated images' pixel statistics are from the
    real ones, and compares only runs on the same images at the same size."""

    def __init__(self, shape: tuple[int, ...], units: int = 64, seed: int = 0):
        d = int(np.prod(shape))
        self.weights = np.random.default_rng(seed).standard_normal((d, units)) / np.sqrt(d)

    def features(self, images: np.ndarray) -> np.ndarray:
        """(N, 64) features of images (N, C, H, W)."""
        return np.maximum(images.reshape(len(images), -1).astype(np.float64) @ self.weights, 0.0)


def image_metrics(
    clf: Any, real_features: np.ndarray, fake: np.ndarray, histogram: bool = True
) -> dict[str, float]:
    """{"frechet", "class_entropy", "classes_covered"} of generated images against the real features (only
    "frechet" when the feature map is no classifier, RandomFeatures, or without `histogram`)."""
    fake = np.nan_to_num(np.clip(fake, -1, 1))
    frechet = frechet_distance(real_features, clf.features(fake))
    if not histogram or not callable(getattr(clf, "classes", None)):
        return {"frechet": frechet}
    hist = np.bincount(clf.classes(fake), minlength=10) / len(fake)
    p = hist[hist > 0]
    return {
        "frechet": frechet,
        "class_entropy": float(-(p * np.log2(p)).sum()),
        "classes_covered": float((hist > 0).sum()),
    }


# ----- pictures --------------------------------------------------------------------------------------------
def image_grid(
    images: np.ndarray,
    cols: int = 8,
    zoom: int | None = None,
    gap: int = 2,
    invert: bool = True,
    slots: int = 0,
) -> np.ndarray:
    """Images (N, C, H, W) in [-1, 1] as one RGB grid, (H', W', 3) uint8; grey images as dark ink on white
    (`invert`, digits) or as they are; `zoom` (None: enough to make tiles about 32 pixels); room for at
    least `slots` images (blank tiles)."""
    n, c, h, w = images.shape
    zoom = zoom or max(1, 32 // h)
    rows = -(-max(n, slots) // cols)
    canvas = np.full((rows * (h * zoom + gap) + gap, cols * (w * zoom + gap) + gap, 3), 255, np.uint8)
    pixels = np.rint((np.clip(np.nan_to_num(images), -1, 1) + 1) * 127.5).astype(np.uint8)
    for k in range(n):
        tile = pixels[k].transpose(1, 2, 0)
        tile = np.repeat(255 - tile if invert else tile, 3, axis=2) if c == 1 else tile[..., :3]
        tile = np.kron(tile, np.ones((zoom, zoom, 1), dtype=np.uint8))
        y, x = gap + (k // cols) * (h * zoom + gap), gap + (k % cols) * (w * zoom + gap)
        canvas[y : y + h * zoom, x : x + w * zoom] = tile
    return canvas


def scatter_image(points: np.ndarray, modes: np.ndarray, std: float, size: int = 320) -> np.ndarray:
    """2-D samples (blue dots) over the modes' 3-sigma circles (green), as an RGB image (size, size, 3)."""
    from PIL import Image, ImageDraw  # Pillow: only when a picture is drawn

    half = float(np.abs(modes).max()) * 1.3 + 6 * std
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    pen = ImageDraw.Draw(canvas)

    def px(xy: np.ndarray) -> tuple[float, float]:
        return ((xy[0] + half) / (2 * half) * size, (half - xy[1]) / (2 * half) * size)

    r = max(3 * std / (2 * half) * size, 2.0)
    for m in modes:
        x, y = px(m)
        pen.ellipse((x - r, y - r, x + r, y + r), outline=(40, 170, 60), width=2)
    for p in np.nan_to_num(points):
        x, y = px(p)
        pen.rectangle((x - 1, y - 1, x + 1, y + 1), fill=(30, 80, 200))
    return np.asarray(canvas)
