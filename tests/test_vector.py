"""The vector env: same-step autoreset, the true final observation, episode statistics."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import rlkit.envs  # noqa: F401
from rlkit.core.vector import SerialVectorEnv

RIGHT, DOWN = 3, 1


def maze(cap: int):
    return lambda: gym.make("rlkit/GridMaze-v0", max_episode_steps=cap)


def test_truncation_reports_final_obs_and_resets() -> None:
    envs = SerialVectorEnv([maze(2)])
    obs = envs.reset(seed=0)
    assert obs.tolist() == [10]
    out = envs.step(np.array([RIGHT]))
    assert out.next_obs.tolist() == [11] and not out.truncated[0] and out.finished == []
    out = envs.step(np.array([RIGHT]))
    assert out.truncated.tolist() == [True] and out.terminated.tolist() == [False]
    assert out.next_obs.tolist() == [12]  # the true final observation, to bootstrap from
    assert out.obs.tolist() == [10]  # already the next episode's start
    assert out.finished == [(0, 0.0, 2)]


def test_termination_and_batched_envs_end_independently() -> None:
    envs = SerialVectorEnv([maze(30), maze(3)])
    envs.reset(seed=0)
    path = [DOWN, RIGHT, RIGHT, RIGHT, RIGHT, RIGHT]
    ended = []
    for t, action in enumerate(path):
        out = envs.step(np.array([action, action]))
        ended += [(t, *f) for f in out.finished]
    assert out.terminated.tolist() == [True, False] and out.reward.tolist() == [100.0, 0.0]
    assert out.next_obs[0] == 2 * 9 + 6 and out.obs[0] == 10
    assert ended == [(2, 1, 0.0, 3), (5, 0, 100.0, 6), (5, 1, 0.0, 3)]


def test_seeding_reproduces_a_stochastic_env() -> None:
    def run(seed):
        envs = SerialVectorEnv([lambda: gym.make("FrozenLake-v1")] * 2)
        envs.reset(seed=seed)
        return [envs.step(np.array([2, 1])).obs.tolist() for _ in range(20)]

    assert run(5) == run(5) and run(5) != run(6)
