"""Replay buffers at their edges: what they accept (the runner's discrete observations), what they refuse
(bad arguments, named), and the Atari-size memory bound."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rlkit.core.errors import UserError
from rlkit.core.replay.buffers import make_replay_buffer
from rlkit.core.types import Transition
from rlkit.core.vector import SerialVectorEnv

IDS = gym.spaces.Discrete(10**9)


def stack_space(k: int) -> gym.spaces.Box:
    return gym.spaces.Box(0, 255, (k, 2, 3), np.uint8)


def test_a_million_atari_transitions_fit_in_7_2_gb() -> None:
    space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    buf = make_replay_buffer(1_000_000, space, gym.spaces.Discrete(18), 1, frame_stack=4)
    naive = 2 * 1_000_000 * 4 * 84 * 84
    assert buf.nbytes <= 7.2e9 and buf.nbytes < naive / 7.5
    del buf


def test_bad_arguments_name_the_key() -> None:
    space = stack_space(4)
    with pytest.raises(UserError, match="capacity=0"):
        make_replay_buffer(0, space, IDS, 1)
    with pytest.raises(UserError, match="n_step=0"):
        make_replay_buffer(10, space, IDS, 1, n_step=0)
    with pytest.raises(UserError, match="gamma=1.5"):
        make_replay_buffer(10, space, IDS, 1, gamma=1.5)
    with pytest.raises(UserError, match="frame_stack=3"):
        make_replay_buffer(10, space, IDS, 1, frame_stack=3)
    with pytest.raises(UserError, match="Dict"):
        make_replay_buffer(10, gym.spaces.Dict({"a": space}), IDS, 1)
    empty = make_replay_buffer(10, space, IDS, 1, frame_stack=4)
    with pytest.raises(ValueError, match="no complete transition"):
        empty.sample(2)


def test_discrete_observations_from_the_runner_vector_env() -> None:
    envs = SerialVectorEnv([lambda: gym.make("FrozenLake-v1", is_slippery=False)] * 2)
    buf = make_replay_buffer(500, envs.single_observation_space, envs.single_action_space, 2, gamma=0.5)
    rng, obs = np.random.default_rng(0), envs.reset(seed=0)
    seen = {}  # (obs, action) -> (next obs, terminated): the env is deterministic
    for _ in range(100):
        action = rng.integers(4, size=2)
        out = envs.step(action)
        buf.add(Transition(obs, action, out.reward, out.next_obs, out.terminated, out.truncated))
        for i in range(2):
            seen[int(obs[i]), int(action[i])] = (int(out.next_obs[i]), bool(out.terminated[i]))
        obs = out.obs
    s = buf.sample(256)
    assert s.obs.shape == (256,) and s.obs.dtype == np.int64 and s.action.dtype == np.int64
    for o, a, n, d in zip(s.obs.tolist(), s.action.tolist(), s.next_obs.tolist(), s.discount.tolist()):
        assert seen[o, a] == (n, d == 0.0)
