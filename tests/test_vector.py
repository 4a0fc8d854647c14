"""The vector env: same-step autoreset, the true final observation, episode statistics, its one-env arrays
and Gymnasium's checking layers (taken out once they have checked)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import PassiveEnvChecker

import rlkit.envs  # noqa: F401
from rlkit.core.vector import SerialVectorEnv

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3


def has_checks(env: gym.Env) -> bool:
    """Whether env's wrapper chain holds one of Gymnasium's checking layers (order enforcing, env checker)."""
    while isinstance(env, gym.Wrapper):
        if isinstance(env, (gym.wrappers.OrderEnforcing, PassiveEnvChecker)):
            return True
        env = env.env
    return False


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


def test_checking_layers_leave_once_they_have_checked_and_the_cap_stays() -> None:
    envs = SerialVectorEnv([maze(3)])
    assert has_checks(envs.envs[0])
    envs.reset(seed=0)
    envs.step(np.array([RIGHT]))
    assert has_checks(envs.envs[0])  # the env checker compares the first two steps
    out = envs.step(np.array([RIGHT]))
    assert not has_checks(envs.envs[0]) and isinstance(envs.envs[0], gym.wrappers.TimeLimit)
    out = envs.step(np.array([RIGHT]))
    assert out.truncated.tolist() == [True] and out.finished == [(0, 0.0, 3)]  # the episode cap still holds


class BadStepEnv(gym.Env):
    """Its step returns an observation outside its observation space (Gymnasium's checker warns)."""

    observation_space, action_space = gym.spaces.Discrete(2), gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 5, 0.0, False, False, {}


def test_the_env_checker_still_checks_the_first_step() -> None:
    envs = SerialVectorEnv([lambda: PassiveEnvChecker(BadStepEnv())])
    envs.reset(seed=0)
    with pytest.warns(UserWarning, match="not within the observation space"):
        envs.step(np.array([1]))


def test_a_rendering_env_keeps_its_checker_for_its_first_render() -> None:
    envs = SerialVectorEnv([lambda: gym.make("FrozenLake-v1", render_mode="rgb_array")])
    envs.reset(seed=0)
    for _ in range(3):
        envs.step(np.array([1]))
    assert has_checks(envs.envs[0])
    assert envs.render().ndim == 3


def test_discrete_observations_are_fresh_arrays_of_the_same_values() -> None:
    envs = SerialVectorEnv([maze(30)])
    first = envs.reset(seed=0)
    seen = [envs.step(np.array([a])).obs for a in (RIGHT, DOWN, LEFT, UP)]
    assert [o.tolist() for o in seen] == [[11], [20], [19], [10]]
    assert all(o.dtype == first.dtype for o in seen)
    assert seen[-1] is not first and seen[-1].flags.writeable  # a new array each step, as before
    seen[-1][0] = 99
    a, b = envs.step(np.array([RIGHT])), envs.step(np.array([LEFT]))
    assert a.obs.tolist() == [11] and b.obs.tolist() == [10]
    assert a.reward is not b.reward and a.reward.tolist() == b.reward.tolist() == [0.0]
    assert a.reward.dtype == np.float64 and a.obs.dtype == np.int64


class ZeroDimObs(BadStepEnv):
    """A Discrete env whose observations are 0-d arrays (Gymnasium's checker only warns)."""

    def step(self, action):
        return np.array(1), 0.0, False, False, {}


def test_a_discrete_observation_given_as_a_0d_array_is_batched() -> None:
    envs = SerialVectorEnv([ZeroDimObs])
    envs.reset(seed=0)
    out = envs.step(np.array([1]))
    assert out.obs.tolist() == [1] and out.obs.dtype == np.int64
