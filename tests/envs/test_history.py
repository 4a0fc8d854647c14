"""History: the last k frames, oldest first; a reset zeroes all but the newest slot."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rlkit.envs.history import History, HistoryObservation


def frame(v: int) -> np.ndarray:
    return np.full((2, 3), v, dtype=np.uint8)


def test_reset_fills_and_push_shifts():
    h = History(3, (2, 3))
    assert h.reset(frame(7))[:, 0, 0].tolist() == [0, 0, 7]
    assert h.push(frame(8))[:, 0, 0].tolist() == [0, 7, 8]
    assert h.push(frame(9))[:, 0, 0].tolist() == [7, 8, 9]
    out = h.push(frame(10))
    assert out[:, 0, 0].tolist() == [8, 9, 10] and out.dtype == np.uint8
    out[:] = 0  # a copy: the history is unaffected
    assert h.frames[:, 0, 0].tolist() == [8, 9, 10]
    assert h.reset(frame(1))[:, 0, 0].tolist() == [0, 0, 1]  # no stack mixes two episodes


def test_length_must_be_positive():
    with pytest.raises(ValueError, match="frame_stack"):
        History(0, (2, 2))


class Counter(gym.Env):
    """Observation: a 2x2 uint8 frame filled with the step count."""

    observation_space = gym.spaces.Box(0, 255, (2, 2), np.uint8)
    action_space = gym.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.full((2, 2), self.t, np.uint8), {}

    def step(self, action):
        self.t += 1
        return np.full((2, 2), self.t, np.uint8), 0.0, self.t >= 5, False, {}


def test_wrapper_stacks_observations():
    env = HistoryObservation(Counter(), length=4)
    assert env.observation_space.shape == (4, 2, 2) and env.observation_space.dtype == np.uint8
    obs, _ = env.reset(seed=0)
    assert obs[:, 0, 0].tolist() == [0, 0, 0, 0]
    for _ in range(2):
        obs, *_ = env.step(0)
    assert obs[:, 0, 0].tolist() == [0, 0, 1, 2]
    assert env.observation_space.contains(obs)
