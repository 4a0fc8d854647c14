"""GAN tasks as Gymnasium envs: the observation is a minibatch of real samples, the action the generator's.

An agent (rlkit.agents.gan) sees real samples and answers with generated ones of the same shape; the env
scores them. An episode is one epoch; at its last step the env scores everything generated in the epoch and
reports it in ``info["metrics"]`` (the runner logs eval/<key>): so an evaluation (one epoch of the test split)
scores all its samples together. The reward is 0 until that last step, whose reward is the epoch's headline
metric, negated when lower is better: an episode's return is the epoch's score (and best.pt the best one).
``info["mask"]`` marks the real rows of a zero-padded last minibatch. The training split reports only what the
runner reads from it, the epoch's headline (its reward and the live display's recent value); the per-batch
scores and the other epoch metrics are computed in evaluations, where they are logged.

* `GaussianMixtureEnv` (rlkit/GaussianRing-v0: 8 Gaussians on a circle of radius 2, std 0.02;
  rlkit/GaussianGrid-v0: 25 on a 5x5 grid at -4..4, std 0.05), the mode-collapse test: fresh real points
  every step; metrics high_quality (per batch) and, per epoch, modes_covered (the headline;
  rlkit.envs.gan_metrics).
* `ImageGanEnv`, the image tasks' base (real images in [-1, 1], scored on a feature map; envs/gan_images.py
  adds MNIST and any folder of images), and `DigitsGanEnv` (rlkit/DigitsGan-v0): scikit-learn's 8x8 digits
  in [-1, 1], the split of env=digits;
  epoch metrics frechet (the headline, lower is better: the return is minus it), frechet_floor (the same
  distance between the real train and test splits), class_entropy and classes_covered (rlkit.envs.gan_metrics
  says exactly what they are).

Pictures: render("rgb_array") draws the last generated batch; `rollout_files` (`rlkit play run=...`) and,
during training, the front end at each evaluation (``samples_at_eval``) write the agent's fixed-noise samples
(its `fixed_samples(n)`) as `<prefix>_samples.png`, with a latent-space interpolation GIF in `rlkit play`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.gif import gif_bytes
from rlkit.core.headline import Headline
from rlkit.envs.gan_metrics import (
    digits_classifier,
    image_grid,
    image_metrics,
    mode_metrics,
    scatter_image,
    to_unit,
)
from rlkit.envs.mnist import load_sklearn_digits
from rlkit.envs.supervised import SPLITS, check_choice, check_positive, num_batches, pad_batch, save_png

LAYOUTS = ("ring", "grid")
GRID_SAMPLES = 64  # samples in a picture
INTERPOLATION_STEPS = 16  # frames from one end of the interpolation to the other


class GanEnv(gym.Env):
    """One epoch of real minibatches; subclasses give the data (`_real`), the scores and the pictures."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 1}
    samples_at_eval = (
        True  # the front end writes samples/step_<N>.png at evaluations (rlkit.frontend.samples)
    )
    headline: Headline  # the epoch's headline metric is its last step's reward (signed: higher is better)
    training = False  # the training split: info["metrics"] has the epoch's headline only (see step)

    @property
    def headline_sign(self) -> float:
        """1 when a higher headline is better, else -1."""
        return 1.0 if self.headline.higher_is_better else -1.0

    def _setup(self, shape: tuple[int, ...], bound: float, batch_size: int, batches: int, render_mode: Any):
        check_positive("batch_size", batch_size)
        if render_mode is not None:
            check_choice("render_mode", render_mode, tuple(self.metadata["render_modes"]))
        self.batch_size, self.batches_per_epoch, self.render_mode = batch_size, batches, render_mode
        self.observation_space = spaces.Box(-bound, bound, (batch_size, *shape), np.float32)
        self.action_space = spaces.Box(-bound, bound, (batch_size, *shape), np.float32)
        self._batch, self._fakes, self._last = 0, [], None

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Starts an epoch and shows its first real minibatch."""
        super().reset(seed=seed)
        self._batch, self._fakes, self._last = 0, [], None
        self._start_epoch()
        self._current = self._real()
        return self._current[0].copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Scores the generated minibatch, keeps it for the epoch's metrics, shows the next real one."""
        fake = np.asarray(action, dtype=np.float32).reshape(self.action_space.shape)
        real, mask = self._current
        self._fakes.append(fake[mask])
        self._last = fake[mask]
        training = self.training  # training reports the headline only: the rest is read in evaluations
        metrics = {**({} if training else self.batch_metrics(fake[mask])), "count": float(mask.sum())}
        self._batch += 1
        terminated, reward = self._batch >= self.batches_per_epoch, 0.0
        if terminated:
            fakes = np.concatenate(self._fakes)
            if training:
                metrics[self.headline.key] = self.headline_metric(fakes)
            else:
                metrics.update(self.epoch_metrics(fakes))
            reward = self.headline_sign * float(metrics[self.headline.key])
            self._fakes = []
            next_obs = real.copy()
        else:
            self._current = self._real()
            next_obs = self._current[0].copy()
        return next_obs, reward, terminated, False, {"mask": mask, "metrics": metrics}

    def render(self) -> np.ndarray | None:
        """The last generated minibatch (its first 64 samples) as a picture, else the real one."""
        if self.render_mode != "rgb_array":
            return None
        samples = self._last if self._last is not None else self._current[0][self._current[1]]
        return self.draw(samples[:GRID_SAMPLES])

    def sample_grid(self, agent: Any) -> np.ndarray:
        """The agent's first 64 fixed-noise samples drawn (the same noise every time: comparable)."""
        if not callable(getattr(agent, "fixed_samples", None)):
            raise UserError("a GAN task's sample grid needs a trained GAN agent (agent=gan)")
        return self.draw(agent.fixed_samples(GRID_SAMPLES))

    def rollout_files(self, agent: Any, out_dir: str | Path, prefix: str = "latest") -> list[Path]:
        """Writes <prefix>_samples.png, the sample grid, and <prefix>_interpolation.gif, the grid's samples
        morphing into the next 64 along straight lines in noise space (`rlkit play run=...`)."""
        out_dir = Path(out_dir)
        grid = save_png(self.sample_grid(agent), out_dir / f"{prefix}_samples.png")
        frames = np.stack([self.draw(x) for x in agent.interpolation(GRID_SAMPLES, INTERPOLATION_STEPS)])
        gif = out_dir / f"{prefix}_interpolation.gif"
        gif.write_bytes(gif_bytes(np.concatenate([frames, frames[-2:0:-1]]), fps=8))  # there and back
        return [grid, gif]

    # ----- what subclasses give ----------------------------------------------------------------------------
    def _start_epoch(self) -> None:
        """Prepares an epoch (e.g. a new order of the data)."""

    def _real(self) -> tuple[np.ndarray, np.ndarray]:
        """(the current real minibatch, zero-padded, and its mask of real rows)."""
        raise NotImplementedError

    def batch_metrics(self, fake: np.ndarray) -> dict[str, float]:
        raise NotImplementedError

    def epoch_metrics(self, fake: np.ndarray) -> dict[str, float]:
        raise NotImplementedError

    def headline_metric(self, fake: np.ndarray) -> float:
        """The epoch's headline alone (what training reports): the value epoch_metrics gives for it."""
        return self.epoch_metrics(fake)[self.headline.key]

    def draw(self, samples: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def mixture_modes(layout: str) -> tuple[np.ndarray, float]:
    """(mode centres (M, 2), std): 8 on a circle of radius 2 (std 0.02) or 25 on a 5x5 grid (std 0.05)."""
    if layout == "ring":
        angles = 2 * np.pi * np.arange(8) / 8
        return np.stack([2 * np.cos(angles), 2 * np.sin(angles)], axis=1), 0.02
    ticks = np.arange(-4.0, 5.0, 2.0)
    return np.array([(x, y) for x in ticks for y in ticks]), 0.05


class GaussianMixtureEnv(GanEnv):
    """A 2-D mixture of Gaussians: real points fresh every step; modes covered and high-quality share.

    Arguments: layout ("ring" | "grid"), split ("train" | "test": the same data, kept for the config's
    eval_kwargs), batch_size (128), batches (minibatches per epoch: 100), min_per_mode (high-quality samples
    a mode needs to count as covered: 20), render_mode (None | "rgb_array").
    """

    headline = Headline("modes covered", "modes_covered", decimals=1)

    def __init__(
        self,
        layout: str = "ring",
        split: str = "train",
        batch_size: int = 128,
        batches: int = 100,
        min_per_mode: int = 20,
        render_mode: str | None = None,
    ):
        check_choice("layout", layout, LAYOUTS)
        check_choice("split", split, SPLITS)
        check_positive("batches", batches)
        check_positive("min_per_mode", min_per_mode)
        self.modes, self.std = mixture_modes(layout)
        self.min_per_mode, self.training = min_per_mode, split == "train"
        self._setup((2,), np.inf, batch_size, batches, render_mode)

    def _real(self) -> tuple[np.ndarray, np.ndarray]:
        rng = self.np_random
        centres = self.modes[rng.integers(len(self.modes), size=self.batch_size)]
        points = centres + self.std * rng.standard_normal((self.batch_size, 2))
        return points.astype(np.float32), np.ones(self.batch_size, dtype=bool)

    def batch_metrics(self, fake: np.ndarray) -> dict[str, float]:
        return {"high_quality": mode_metrics(fake, self.modes, self.std)["high_quality"]}

    def epoch_metrics(self, fake: np.ndarray) -> dict[str, float]:
        return {"modes_covered": mode_metrics(fake, self.modes, self.std, self.min_per_mode)["modes_covered"]}

    def draw(self, samples: np.ndarray) -> np.ndarray:
        return scatter_image(samples, self.modes, self.std)


class ImageGanEnv(GanEnv):
    """Real images in [-1, 1] (N, C, H, W), one shuffled (train) or ordered (test) epoch of minibatches,
    scored by a feature map `scorer` (rlkit.envs.gan_metrics: a classifier, or fixed random features):
    the Frechet distance between its features of the real and of the generated images is the headline;
    `floor` is the same distance between the real train and test splits. Subclasses load the images and
    the scorer, then call `_setup_images`."""

    headline = Headline("classifier Frechet", "frechet", higher_is_better=False, decimals=2)
    invert = True  # grey images are drawn as dark ink on white (digits); False: as they are (photos)

    def _setup_images(
        self, images: np.ndarray, scorer: Any, floor: float, split: str, batch_size: int, render_mode: Any
    ) -> None:
        self.images, self.classifier, self.floor = images, scorer, floor
        self.real_features = scorer.features(images)
        self.training = split == "train"  # the training split is shuffled
        self._order = np.arange(len(images))
        self._setup(images.shape[1:], 1.0, batch_size, num_batches(len(images), batch_size), render_mode)

    def _start_epoch(self) -> None:
        n = len(self.images)
        self._order = self.np_random.permutation(n) if self.training else np.arange(n)

    def _real(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self._order[self._batch * self.batch_size : (self._batch + 1) * self.batch_size]
        mask = np.zeros(self.batch_size, dtype=bool)
        mask[: len(rows)] = True
        return pad_batch(self.images[rows], self.batch_size), mask

    def batch_metrics(self, fake: np.ndarray) -> dict[str, float]:
        return {}

    def epoch_metrics(self, fake: np.ndarray) -> dict[str, float]:
        return {**image_metrics(self.classifier, self.real_features, fake), "frechet_floor": self.floor}

    def headline_metric(self, fake: np.ndarray) -> float:
        return image_metrics(self.classifier, self.real_features, fake, histogram=False)["frechet"]

    def draw(self, samples: np.ndarray) -> np.ndarray:
        """A grid with room for 64 images (or a minibatch), so that a short last minibatch's frame (render)
        has the size of the others."""
        return image_grid(samples, invert=self.invert, slots=min(GRID_SAMPLES, self.batch_size))


class DigitsGanEnv(ImageGanEnv):
    """scikit-learn's 8x8 digits in [-1, 1] (the split of env=digits), scored by a digit classifier.

    Arguments: split ("train" | "test"), batch_size (128), limit (None: all images of the split; N: the
    first N), test_fraction (0.2) and split_seed (0) as env=digits, render_mode (None | "rgb_array").
    """

    def __init__(
        self,
        split: str = "train",
        batch_size: int = 128,
        limit: int | None = None,
        test_fraction: float = 0.2,
        split_seed: int = 0,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        if limit is not None:
            check_positive("limit", limit)
        if not 0.0 < test_fraction < 1.0:
            raise UserError(f"env.kwargs.test_fraction={test_fraction} is invalid: it must be in (0, 1)")
        images, _ = load_sklearn_digits(split, test_fraction, split_seed)
        classifier, floor = digits_classifier(split_seed, test_fraction)
        self._setup_images(to_unit(images[:limit]), classifier, floor, split, batch_size, render_mode)
