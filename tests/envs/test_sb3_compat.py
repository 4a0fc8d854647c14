"""rlkit's envs pass Stable-Baselines3's env checker and work from plain SB3 code through make_sb3_env."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env

from rlkit.core.errors import UserError
from rlkit.envs.factory import make_env
from rlkit.frontend.sb3_envs import env_config, make_sb3_env

HAS_ATARI = importlib.util.find_spec("rlkit.envs.atari") is not None


@pytest.mark.parametrize("name", ["maze", "maze_traps", "maze_random"])
def test_maze_passes_sb3_check_env(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a warning
        check_env(make_env(env_config(name)))


@pytest.mark.skipif(not HAS_ATARI, reason="the Atari preset (envs/atari.py) is not in this checkout yet")
def test_atari_preset_passes_sb3_check_env() -> None:
    env = make_env(env_config("Breakout"))
    check_env(env)
    assert env.observation_space.shape == (4, 84, 84) and env.observation_space.dtype == np.uint8


def test_make_sb3_env_is_a_seeded_sb3_vec_env() -> None:
    from stable_baselines3 import A2C
    from stable_baselines3.common.vec_env import VecEnv

    venv = make_sb3_env("maze", n_envs=2, seed=0, max_episode_steps=10)
    assert isinstance(venv, VecEnv) and venv.num_envs == 2
    assert venv.reset().tolist() == [10, 10]  # start (1,1) of the 9-column maze
    A2C("MlpPolicy", venv, seed=0, device="cpu", n_steps=5).learn(20)
    cart = make_sb3_env("CartPole-v1", seed=1)
    first = cart.reset()
    cart.seed(1)
    assert np.array_equal(first, cart.reset())


def test_make_sb3_env_errors() -> None:
    with pytest.raises(UserError, match="n_envs=0"):
        make_sb3_env("maze", n_envs=0)
    with pytest.raises(UserError, match="unknown env"):
        make_sb3_env("mazee")
