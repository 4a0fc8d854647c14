"""Atari games through ale-py with the standard DQN preprocessing, as one registered id: rlkit/Atari-v0.

Gymnasium's AtariPreprocessing does the no-op starts, frame skip with max-pooling and the 84x84 grayscale
frames; this module adds what no library has, one small wrapper each: fire on reset, terminal on life loss
(without resetting the game), reward clipping, raw-score episode statistics, and the History frame stack.
`gym.make("rlkit/Atari-v0", game="Breakout")` builds the whole chain; `rlkit train env=Breakout` uses it.
Evaluation envs turn clipping and life-loss terminals off (configs/env/atari.yaml: eval_kwargs), so
evaluation reports the raw game score, and press FIRE after each lost life, so that a greedy policy that
never learned to press it cannot stall a game until the 108k-frame cap.
"""

from __future__ import annotations

import functools
from typing import Any

import ale_py
import gymnasium as gym
import numpy as np
from gymnasium.wrappers import AtariPreprocessing

from rlkit.envs.history import HistoryObservation

gym.register_envs(ale_py)
ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)  # no "A.L.E: ..." banner on every env made


@functools.cache
def ale_games() -> dict[str, str]:
    """Game name as the CLI takes it (Breakout, SpaceInvaders, ...) -> ALE id (ALE/Breakout-v5)."""
    out = {}
    for env_id in gym.registry:
        if env_id.startswith("ALE/") and env_id.endswith("-v5") and "-ram" not in env_id:
            out[env_id[len("ALE/") : -len("-v5")]] = env_id
    return out


def ale_id(game: str) -> str:
    """The ALE id of `game` (a name such as Breakout, or already an ALE id); ValueError naming the games."""
    if game in gym.registry and game.startswith("ALE/"):
        return game
    games = ale_games()
    if game not in games:
        raise ValueError(f"unknown Atari game '{game}'; valid games: {', '.join(sorted(games))}")
    return games[game]


class FireReset(gym.Wrapper):
    """Presses FIRE after each reset, for games that wait for it (Breakout, ...); with `after_life_loss`
    also after each lost life, within the step that lost it (its reward and flags are added)."""

    def __init__(self, env: gym.Env, after_life_loss: bool = False):
        super().__init__(env)
        self.after_life_loss, self.lives = after_life_loss, 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.env.reset(**kwargs)
        obs, _, terminated, truncated, info = self.env.step(1)
        if terminated or truncated:  # never in practice; keep the contract anyway
            obs, info = self.env.reset(**kwargs)
        self.lives = self.env.unwrapped.ale.lives()
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = self.env.unwrapped.ale.lives()
        if self.after_life_loss and lives < self.lives and not (terminated or truncated):
            obs, fire_reward, terminated, truncated, info = self.env.step(1)
            reward += fire_reward
        self.lives = lives
        return obs, reward, terminated, truncated, info


class LifeLossTerminal(gym.Wrapper):
    """Reports a lost life as `terminated` for the learner; the game itself goes on until it is over.

    After a life-loss "episode" a reset only takes a no-op step, as in DeepMind's and SB3's EpisodicLife.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.lives, self.game_over = 0, True

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = self.env.unwrapped.ale.lives()
        if 0 < lives < self.lives:
            terminated = True
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        if self.game_over:
            obs, info = self.env.reset(**kwargs)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        self.lives = self.env.unwrapped.ale.lives()
        return obs, info


def clip_reward(reward: float) -> float:
    """The sign of the reward: -1, 0 or +1 (DQN's reward clipping)."""
    return float(np.sign(reward))


class ClipReward(gym.RewardWrapper):
    """Clips rewards to their sign, for training only."""

    def reward(self, reward: float) -> float:
        return clip_reward(reward)


class GameStats(gym.Wrapper):
    """Puts the raw game score and length of a finished game in info["game"] = {"return", "length"}.

    Sits below the life-loss and clipping wrappers, so the vector env can report whole games and raw scores.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.score, self.length = 0.0, 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.score, self.length = 0.0, 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.score += float(reward)
        self.length += 1
        if terminated or truncated:
            info = {**info, "game": {"return": self.score, "length": self.length}}
        return obs, reward, terminated, truncated, info


def make_atari(
    game: str = "Breakout",
    noop_max: int = 30,
    frame_skip: int = 4,
    screen_size: int = 84,
    frame_stack: int = 4,
    fire_reset: bool = True,
    fire_after_life_loss: bool = False,
    terminal_on_life_loss: bool = False,
    clip_rewards: bool = True,
    sticky_action_prob: float = 0.0,
    full_action_space: bool = False,
    max_episode_frames: int = 108_000,
    vector: str = "native",
    render_mode: str | None = None,
) -> gym.Env:
    """An ALE game with the DQN preprocessing chain; observations are (frame_stack, 84, 84) uint8 stacks.

    `fire_reset` presses FIRE on reset only in games whose action set has FIRE as action 1;
    `fire_after_life_loss` also after each lost life (evaluation envs: a greedy policy that never learned to
    press FIRE would otherwise wait out the 108k-frame cap; SB3's EpisodicLife + FireReset do the same).
    `vector` is read by the vector entry point, envs/atari_vector.py (native: ale-py's AtariVectorEnv for
    training, serial: these wrappers).
    """
    if vector not in ("native", "serial"):
        raise ValueError(f"vector='{vector}' is invalid; valid values: native, serial")
    env = gym.make(
        ale_id(game),
        frameskip=1,
        repeat_action_probability=sticky_action_prob,
        full_action_space=full_action_space,
        max_num_frames_per_episode=max_episode_frames,
        render_mode=render_mode,
    )
    env = AtariPreprocessing(env, noop_max=noop_max, frame_skip=frame_skip, screen_size=screen_size)
    env = GameStats(env)
    env.episode_step_limit = max_episode_frames  # the ALE's own cap, for evaluation (frames >= steps)
    if terminal_on_life_loss:
        env = LifeLossTerminal(env)
    if fire_reset and env.unwrapped.get_action_meanings()[1:2] == ["FIRE"]:
        env = FireReset(env, fire_after_life_loss)  # above LifeLossTerminal: FIRE after its life-loss resets
    if clip_rewards:
        env = ClipReward(env)
    return HistoryObservation(env, frame_stack)
