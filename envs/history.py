"""The History frame stack (the book's agents/history.py idea): the last k frames, the agent's observation.

`History` is the pure part: a (k, H, W) uint8 array whose last slot holds the newest frame; a reset zeroes
the older slots, as in the book and in ale-py's native vector env (so no stack mixes two episodes, and
training on the native env and evaluating on this wrapper see the same first stacks). `HistoryObservation`
wraps an env so that its observation is that stack. The replay buffer receives the same stacks and keeps
only each new frame once.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class History:
    """The last `length` frames of one episode, oldest first."""

    def __init__(self, length: int, frame_shape: tuple[int, ...], dtype: Any = np.uint8):
        if length < 1:
            raise ValueError(f"frame_stack={length} is invalid: it must be >= 1")
        self.frames = np.zeros((length, *frame_shape), dtype=dtype)

    def reset(self, frame: np.ndarray) -> np.ndarray:
        """Starts an episode: zeros, then `frame` in the newest slot. Returns a copy of the stack."""
        self.frames[:-1] = 0
        self.frames[-1] = frame
        return self.frames.copy()

    def push(self, frame: np.ndarray) -> np.ndarray:
        """Drops the oldest frame, appends `frame`. Returns a copy of the stack."""
        self.frames[:-1] = self.frames[1:]
        self.frames[-1] = frame
        return self.frames.copy()


class HistoryObservation(gym.Wrapper):
    """Makes the observation the stack of the last `length` frames, shape (length, *frame shape)."""

    def __init__(self, env: gym.Env, length: int = 4):
        super().__init__(env)
        space = env.observation_space
        self.history = History(length, space.shape, space.dtype)
        self.observation_space = gym.spaces.Box(
            low=np.repeat(space.low[None], length, axis=0),
            high=np.repeat(space.high[None], length, axis=0),
            dtype=space.dtype,
        )

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return self.history.reset(obs), info

    def step(self, action: Any) -> tuple[np.ndarray, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self.history.push(obs), reward, terminated, truncated, info
