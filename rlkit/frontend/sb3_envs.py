"""rlkit's envs for plain Stable-Baselines3 code: `make_sb3_env` returns an SB3 VecEnv of any rlkit env.

Example (no rlkit runner involved)::

    from stable_baselines3 import PPO
    from rlkit.frontend.sb3_envs import make_sb3_env

    venv = make_sb3_env("maze", n_envs=4, seed=0)             # the book's maze, 4 copies
    PPO("MlpPolicy", venv, seed=0).learn(20_000)
    atari = make_sb3_env("Breakout", n_envs=8, seed=0)        # the Atari preset: (4, 84, 84) uint8 stacks
    cart = make_sb3_env("CartPole-v1", max_episode_steps=200)  # any Gymnasium id; kwargs: constructor's

`name` is what `rlkit train env=...` takes: an rlkit env config (maze, maze_traps, maze_random, atari, ...),
an ALE game name (Breakout, Pong, ...) or any registered Gymnasium id. Each env is wrapped in SB3's
`Monitor` so SB3 sees episode returns; env i is seeded with seed + i, as rlkit's own vector env does. With
`evaluation=True` the config's eval_kwargs apply (for Atari: raw scores, no reward clipping).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
from omegaconf import OmegaConf

from rlkit.core.errors import UserError
from rlkit.envs.factory import make_env
from rlkit.frontend.compose import compose_config

EPISODE_CAP = "max_episode_steps"


def env_config(name: str, **kwargs: Any) -> Any:
    """The env config `rlkit train env=<name>` would use, with `kwargs` added to its constructor arguments."""
    cfg = OmegaConf.to_container(compose_config([f"env={name}"]).env, resolve=True)
    if EPISODE_CAP in kwargs:
        cfg[EPISODE_CAP] = kwargs.pop(EPISODE_CAP)
    cfg["kwargs"] = {**(cfg.get("kwargs") or {}), **kwargs}
    return OmegaConf.create(cfg)


def make_sb3_env(
    name: str, n_envs: int = 1, seed: int | None = None, evaluation: bool = False, **kwargs: Any
) -> Any:
    """An SB3 DummyVecEnv of `n_envs` copies of rlkit's env `name` (see the module docstring)."""
    from stable_baselines3.common.monitor import Monitor  # SB3 (~1 s): only when an SB3 env is asked for
    from stable_baselines3.common.vec_env import DummyVecEnv

    if n_envs < 1:
        raise UserError(f"n_envs={n_envs} is invalid: it must be >= 1")
    cfg = env_config(name, **kwargs)

    def one() -> gym.Env:
        return Monitor(make_env(cfg, evaluation=evaluation))

    fns: list[Callable[[], gym.Env]] = [one for _ in range(n_envs)]
    venv = DummyVecEnv(fns)
    if seed is not None:
        venv.seed(seed)
    return venv
