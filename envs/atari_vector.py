"""Vector envs for Atari training with the runner's protocol: same-step autoreset, raw game scores.

Two backends, same methods as rlkit.core.vector.SerialVectorEnv:
- `AtariSerialVectorEnv`: the Gymnasium wrapper chain of envs/atari.py, one env after another. Its
  `finished` entries are whole games with their raw score (from GameStats), not lives or clipped rewards.
- `AtariNativeVectorEnv`: ale-py's C++ AtariVectorEnv (its own preprocessing and frame stack, stepped in
  threads). Rewards come unclipped from ALE and are clipped here, so raw scores stay available.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.core.errors import invalid_choice
from rlkit.core.vector import SerialVectorEnv, VecStep
from rlkit.envs import ATARI_ID
from rlkit.envs.atari import ale_id


class AtariSerialVectorEnv(SerialVectorEnv):
    """SerialVectorEnv whose finished episodes are whole games scored in raw points."""

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]]):
        super().__init__(env_fns)
        self._game_lengths = [0] * self.num_envs

    def step(self, actions: np.ndarray) -> VecStep:
        """Steps each env; resets those whose (life or game) episode ended; reports finished games."""
        n = self.num_envs
        obs = np.empty((n, *self.single_observation_space.shape), dtype=self._obs_dtype)
        rewards = np.empty(n, dtype=np.float64)
        terms, truncs = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        infos, finished, finals = [], [], {}
        for i, (env, action) in enumerate(zip(self.envs, actions.tolist())):
            o, rewards[i], terms[i], truncs[i], info = env.step(action)
            infos.append(info)
            if terms[i] or truncs[i]:
                finals[i] = o
                if "game" in info:
                    finished.append((i, info["game"]["return"], info["game"]["length"]))
                o, _ = env.reset()
            obs[i] = o
        next_obs = obs
        if finals:
            next_obs = obs.copy()
            for i, o in finals.items():
                next_obs[i] = o
        return VecStep(obs, next_obs, rewards, terms, truncs, infos, finished)


class AtariNativeVectorEnv:
    """ale-py's AtariVectorEnv behind the runner's vector-env protocol (same-step autoreset)."""

    def __init__(self, num_envs: int, **kwargs: Any):
        from ale_py.vector_env import AtariVectorEnv  # ale_py: only when Atari envs are made

        game = gym.spec(ale_id(kwargs.pop("game", "Breakout"))).kwargs["game"]
        self.clip_rewards = kwargs.pop("clip_rewards", True)
        self.terminal_on_life_loss = kwargs.pop("terminal_on_life_loss", False)
        self._env = AtariVectorEnv(
            game,
            num_envs,
            autoreset_mode="SameStep",
            noop_max=kwargs.pop("noop_max", 30),
            frameskip=kwargs.pop("frame_skip", 4),
            img_height=kwargs.get("screen_size", 84),
            img_width=kwargs.pop("screen_size", 84),
            stack_num=kwargs.pop("frame_stack", 4),
            use_fire_reset=kwargs.pop("fire_reset", True),
            repeat_action_probability=kwargs.pop("sticky_action_prob", 0.0),
            full_action_space=kwargs.pop("full_action_space", False),
            max_num_frames_per_episode=kwargs.pop("max_episode_frames", 108_000),
            episodic_life=False,
            reward_clipping=False,
            num_threads=min(num_envs, 2),
        )
        if kwargs.pop("fire_after_life_loss", False):
            raise ValueError(
                "fire_after_life_loss=true needs env.kwargs.vector=serial (ale-py's native vector env has no "
                "such option; evaluation envs use the serial chain)"
            )
        kwargs.pop("vector", None)
        kwargs.pop("render_mode", None)
        if kwargs:
            raise ValueError(f"unknown Atari env kwargs: {', '.join(sorted(kwargs))}")
        self.num_envs = num_envs
        self.single_observation_space = self._env.single_observation_space
        self.single_action_space = self._env.single_action_space
        self._returns = np.zeros(num_envs)
        self._lengths = np.zeros(num_envs, dtype=np.int64)
        self._lives = np.zeros(num_envs, dtype=np.int64)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Resets every env; env i gets seed + i."""
        seeds = None if seed is None else np.arange(self.num_envs) + seed
        obs, info = self._env.reset(seed=seeds)
        self._returns[:], self._lengths[:] = 0.0, 0
        self._lives[:] = info["lives"]
        return obs

    def step(self, actions: np.ndarray) -> VecStep:
        """One step of every env; `obs` holds new games where one ended, `next_obs` the final frames."""
        obs, raw, terminated, truncated, info = self._env.step(np.asarray(actions, dtype=np.int64))
        raw = raw.astype(np.float64)
        self._returns += raw
        self._lengths += 1
        game_over = terminated | truncated
        finished = []
        next_obs = obs
        if game_over.any():
            next_obs = obs.copy()
            for i in np.flatnonzero(game_over).tolist():
                next_obs[i] = info["final_obs"][i]
                finished.append((i, float(self._returns[i]), int(self._lengths[i])))
                self._returns[i], self._lengths[i] = 0.0, 0
        lives = info["lives"]
        if self.terminal_on_life_loss:
            terminated = terminated | ((lives < self._lives) & ~game_over)
        self._lives = np.asarray(lives, dtype=np.int64)
        reward = np.sign(raw) if self.clip_rewards else raw
        return VecStep(obs, next_obs, reward, terminated, truncated, [{}] * self.num_envs, finished)

    def close(self) -> None:
        """Stops ALE's worker threads."""
        self._env.close()


def make_vector_env(
    num_envs: int, vector: str = "native", max_episode_steps: int | None = None, **kwargs: Any
):
    """rlkit/Atari-v0's vector entry point (registered in envs/__init__.py): whole games with raw scores, from
    ale-py's native vector env (`vector=native`) or the Gymnasium wrapper chain stepped serially."""
    if vector == "native":
        return AtariNativeVectorEnv(num_envs, **kwargs)
    if vector != "serial":
        raise invalid_choice(f"env.kwargs.vector={vector!r}", ("native", "serial"))
    cap = {"max_episode_steps": max_episode_steps} if max_episode_steps is not None else {}
    return AtariSerialVectorEnv([lambda: gym.make(ATARI_ID, vector=vector, **kwargs, **cap)] * num_envs)
