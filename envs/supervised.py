"""Supervised learning as Gymnasium envs: one step shows a minibatch, the action is the model's prediction.

Design (the design guide, section 3): an episode is one epoch over a split of a data set. Each step presents
a minibatch as the observation; the action is one prediction per example; the reward scores the prediction
(accuracy for classification); the targets are revealed afterwards in `info` (full-information feedback),
so a supervised agent learns from them while an RL agent could learn from the reward alone.

What `step` returns in `info` (every task, so one supervised agent serves them all):

* ``targets``: the batch's targets, shaped like the action (padded rows hold 0);
* ``mask``: bool (batch,), True for real examples. The last minibatch of an epoch is padded with zeros to the
  full batch size (the spaces have a fixed shape) and masked: no example is dropped, so a test epoch scores
  every test example exactly once;
* ``metrics``: numbers for rlkit.core.evaluation, e.g. {"accuracy": 0.93, "count": 100}; `count` (real
  examples) is the weight of the batch when the evaluation averages over batches.

Conventions: images are uint8 (batch, channels, H, W) in [0, 255] (networks scale them); sequences are float32
(batch, time, features + 1) whose last feature is 1 on valid steps and 0 on padding.

To add a task: subclass `SupervisedEnv` (or `ClassificationEnv` for labels), load the split's arrays in
``__init__`` and pass them to ``super().__init__``; override `score` for another metric (and `headline`,
the number reported first: rlkit.core.headline) and `draw` for a picture of what the model does; register a
Gymnasium id in envs/__init__.py and add configs/env/<task>.yaml with ``eval_kwargs: {split: test}``. A task
whose later steps do not read earlier answers may say ``actions_ignored = True`` (rlkit.core.vector: its
actions are then not kept for a resume's replay; digits, CIFAR, toy sequences, time series, char text and
word2vec do).
Data-file errors raise rlkit.core.errors.UserError naming the path and what was expected. Rendering
("rgb_array") draws the last scored batch; `save_png` writes a frame and `rollout_png` plays a trained agent
on the first test batch and saves the picture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError, invalid_choice
from rlkit.core.headline import Headline

SPLITS = ("train", "test")


def check_choice(key: str, value: Any, choices: tuple) -> None:
    """Raises UserError naming `env.kwargs.<key>` and the valid choices."""
    if value not in choices:
        raise invalid_choice(f"env.kwargs.{key}={value!r}", choices)


def check_positive(key: str, value: int) -> None:
    """Raises UserError unless `value` is an int >= 1."""
    if not isinstance(value, int) or value < 1:
        raise UserError(f"env.kwargs.{key}={value!r} is invalid: it must be an integer >= 1")


def num_batches(n: int, batch_size: int) -> int:
    """Minibatches in one epoch of `n` examples (the last one may be partial)."""
    return -(-n // batch_size)


def pad_batch(x: np.ndarray, batch_size: int) -> np.ndarray:
    """`x` with zero rows appended up to `batch_size` rows."""
    if len(x) == batch_size:
        return x
    pad = np.zeros((batch_size - len(x), *x.shape[1:]), dtype=x.dtype)
    return np.concatenate([x, pad])


def masked_accuracy(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of real examples (mask True) whose prediction equals the target (all of its entries)."""
    hit = pred == target
    if hit.ndim != 1:  # several entries per example: right only if all are
        hit = hit.reshape(len(mask), -1).all(axis=1)
    real = int(np.count_nonzero(mask))  # counts, then one division: the float hit[mask].mean() gives, faster
    if real == len(mask):
        return int(np.count_nonzero(hit)) / real
    return int(np.count_nonzero(hit & mask)) / real if real else 0.0


class SupervisedEnv(gym.Env):
    """One epoch over (inputs, targets) in minibatches; subclasses choose the action space and the score."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 1}

    def __init__(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        batch_size: int,
        shuffle: bool,
        observation_space: spaces.Box,
        action_space: spaces.Space,
        render_mode: str | None = None,
    ):
        check_positive("batch_size", batch_size)
        if render_mode is not None:
            check_choice("render_mode", render_mode, tuple(self.metadata["render_modes"]))
        if len(inputs) != len(targets) or len(inputs) == 0:
            raise UserError(
                f"a supervised task needs as many targets as inputs (>0), got {len(inputs)}/{len(targets)}"
            )
        self.inputs, self.targets = inputs, targets
        self.batch_size, self.shuffle, self.render_mode = batch_size, shuffle, render_mode
        self.observation_space, self.action_space = observation_space, action_space
        self.batches_per_epoch = num_batches(len(inputs), batch_size)
        self._order = np.arange(len(inputs))
        self._batch = 0
        self._current = self._obs()
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    # ----- the Gymnasium API -------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Starts an epoch (a new random order when shuffling) and shows its first minibatch."""
        super().reset(seed=seed)
        self._order = (
            self.np_random.permutation(len(self.inputs)) if self.shuffle else np.arange(len(self.inputs))
        )
        self._batch = 0
        self._current = self._obs()
        return self._current, {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Scores `action` on the current minibatch, reveals its targets, moves to the next minibatch."""
        pred = np.asarray(action)
        obs, target, mask = self._current, self._target(), self._mask()
        metrics = self.score(pred, target, mask)
        metrics["count"] = float(np.count_nonzero(mask))
        reward = float(metrics[self.reward_key])
        self._last = (obs, target, pred, mask)
        self._batch += 1
        terminated = self._batch >= self.batches_per_epoch
        if terminated:  # the epoch is over: the final observation repeats (a copy: users may keep both)
            next_obs = obs.copy()
        else:
            next_obs = self._current = self._obs()
        info = {"targets": target, "mask": mask, "metrics": metrics}
        return next_obs, reward, terminated, False, info

    def render(self) -> np.ndarray | None:
        """The last scored minibatch drawn with targets and predictions (rgb_array), else None."""
        if self.render_mode != "rgb_array":
            return None
        if self._last is None:
            obs = self._current
            return self.draw(obs, self._target(), None, self._mask())
        return self.draw(*self._last)

    # ----- what subclasses change --------------------------------------------------------------------------
    reward_key = "accuracy"
    headline = Headline("accuracy", "accuracy")  # what runs of this task report first (rlkit.core.headline)

    def score(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        """Metrics of one minibatch's predictions (the reward is metrics[reward_key])."""
        return {"accuracy": masked_accuracy(pred, target, mask)}

    def draw(
        self, obs: np.ndarray, target: np.ndarray, pred: np.ndarray | None, mask: np.ndarray
    ) -> np.ndarray:
        """An RGB picture of a minibatch and the model's predictions (None before any step)."""
        raise NotImplementedError

    # ----- minibatches -------------------------------------------------------------------------------------
    def _rows(self) -> np.ndarray:
        b = min(self._batch, self.batches_per_epoch - 1)
        return self._order[b * self.batch_size : (b + 1) * self.batch_size]

    def _obs(self) -> np.ndarray:
        return pad_batch(self.inputs[self._rows()], self.batch_size)

    def _target(self) -> np.ndarray:
        return pad_batch(self.targets[self._rows()], self.batch_size)

    def _mask(self) -> np.ndarray:
        """True for the real rows (a new array each step: Gymnasium wants no info shared between steps)."""
        mask = np.zeros(self.batch_size, dtype=bool)
        mask[: len(self._rows())] = True
        return mask


class ClassificationEnv(SupervisedEnv):
    """Labels in [0, n_classes): action MultiDiscrete([n_classes] * batch), reward = batch accuracy."""

    def __init__(
        self,
        inputs: np.ndarray,
        labels: np.ndarray,
        class_names: list[str],
        batch_size: int,
        shuffle: bool,
        observation_space: spaces.Box,
        render_mode: str | None = None,
    ):
        self.class_names = list(class_names)
        n = len(self.class_names)
        super().__init__(
            inputs,
            labels.astype(np.int64),
            batch_size,
            shuffle,
            observation_space,
            spaces.MultiDiscrete(np.full(batch_size, n, dtype=np.int64)),
            render_mode,
        )


# ----- pictures --------------------------------------------------------------------------------------------
GREEN, RED, WHITE, BLACK = (40, 170, 60), (210, 40, 40), (255, 255, 255), (0, 0, 0)


def caption_color(target: Any, pred: Any | None) -> tuple[int, int, int]:
    """Green for a right prediction, red for a wrong one, black when there is none yet."""
    if pred is None:
        return BLACK
    return GREEN if np.array_equal(np.asarray(target), np.asarray(pred)) else RED


def tile_grid(
    tiles: list[np.ndarray], captions: list[str], colors: list[tuple], slots: int, cols: int = 8
) -> np.ndarray:
    """Equal-size RGB tiles in a grid of `slots` cells (so every frame has one size), captioned under each.

    Returns (H, W, 3) uint8; cells beyond the tiles given stay blank.
    """
    from PIL import Image, ImageDraw  # Pillow: only when an image is drawn

    th, tw = tiles[0].shape[:2]
    cap, gap = 14, 4
    cols = min(cols, slots)
    rows = num_batches(slots, cols)
    canvas = Image.new("RGB", (cols * (tw + gap) + gap, rows * (th + cap + gap) + gap), WHITE)
    pen = ImageDraw.Draw(canvas)
    for k, (tile, text, color) in enumerate(zip(tiles, captions, colors)):
        x, y = gap + (k % cols) * (tw + gap), gap + (k // cols) * (th + cap + gap)
        canvas.paste(Image.fromarray(tile), (x, y))
        pen.text((x + 1, y + th + 1), text, fill=color)
    return np.asarray(canvas)


def save_png(frame: np.ndarray, path: str | Path) -> Path:
    """Writes an (H, W, 3) uint8 frame as a PNG (parent folders created) and returns the path."""
    from PIL import Image  # Pillow: only when a PNG is written

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(frame, dtype=np.uint8)).save(path)
    return path


def rollout_png(agent: Any, env: gym.Env, path: str | Path, seed: int = 0) -> Path:
    """Plays the agent greedily on the env's first minibatch and saves the rendered picture as a PNG.

    `env` must have been made with render_mode="rgb_array" (e.g. make_env(cfg.env, "rgb_array",
    evaluation=True), the test split).
    """
    obs, _ = env.reset(seed=seed)
    env.step(agent.act(np.asarray(obs)[None], explore=False)[0])
    frame = env.render()
    if frame is None:
        raise UserError("rollout_png needs an env made with render_mode='rgb_array'")
    return save_png(frame, path)
