"""A small in-process vector env: batching and autoreset for the runner, handled in exactly one place.

Why not Gymnasium's SyncVectorEnv? For cheap envs (FrozenLake, the maze) its per-step bookkeeping (info
merging, space-aware concatenation) costs more than the env itself: about 3x a bare loop on FrozenLake.
This class keeps only what the runner needs. Autoreset is same-step: when an episode ends, the env is reset at
once, `obs` holds the new episode's first observation and `next_obs` the true final one, so the learner
bootstraps from the real final observation on truncation and never across a reset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker

VECTOR_ENTRY_POINTS: dict[str, str] = {}  # Gymnasium id -> "module:function" that batches it (see below)


def register_vector_env(env_id: str, entry_point: str) -> None:
    """Says that env `env_id` is batched by `entry_point` ("module:function", called as f(num_envs, **kwargs)
    with the env's kwargs) into a vector env with SerialVectorEnv's methods, instead of being stepped
    serially. An env module calls it beside its own gym.register (e.g. Atari: ale-py's native vector env)."""
    VECTOR_ENTRY_POINTS[env_id] = entry_point


class VecStep(NamedTuple):
    """What one vector step returns. `obs` is what to act on next; `next_obs` what the actions led to."""

    obs: np.ndarray
    next_obs: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    info: list[dict[str, Any]]
    finished: list[tuple[int, float, int]]  # (env index, episode return, episode length) of ended episodes


_new_tuple = tuple.__new__


class SerialVectorEnv:
    """Steps `len(env_fns)` envs one after another in this process, with same-step autoreset.

    For exact resumption it remembers, per env, how the current episode began (the reset seed, or the env's
    RNG state just before its autoreset) and the actions played since: `load_state_dict` rebuilds the episode
    by resetting the same way and replaying them (exact for envs whose randomness comes from `np_random`).
    Envs that ignore their actions (`actions_are_ignored`) replay placeholders instead.
    """

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]]):
        if not env_fns:
            raise ValueError("a vector env needs at least one env (num_envs >= 1)")
        self.envs = [fn() for fn in env_fns]
        self.num_envs = len(self.envs)
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self._obs_dtype = self.single_observation_space.dtype or np.float32
        self._returns = [0.0] * self.num_envs
        self._lengths = [0] * self.num_envs
        self._starts: list[dict[str, Any]] = [{} for _ in self.envs]  # how each current episode began
        self._actions: list[list[Any]] = [[] for _ in self.envs]  # actions played since
        self._keep = [not actions_are_ignored(env) for env in self.envs]  # False: None is kept instead
        self._no_end = np.zeros(self.num_envs, dtype=bool)  # shared, read-only: most steps end no episode
        self._no_end.flags.writeable = False
        scalar = self.single_observation_space.shape == ()  # Discrete: one number per observation
        self._scalar_obs = np.zeros(1, self._obs_dtype) if scalar else None  # _batch_of_one's buffer
        self._reward = np.zeros(1, np.float64)  # _step_one's buffer: a copy is 0.17 us, np.array 0.35
        self._check_steps = 2  # steps after which Gymnasium's checking layers may have finished (see step)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Resets every env; env i gets seed + i so a seed fixes the whole batch."""
        self._returns, self._lengths = [0.0] * self.num_envs, [0] * self.num_envs
        seeds = [None if seed is None else seed + i for i in range(self.num_envs)]
        self._starts = [{"seed": s, "rng": None} for s in seeds]
        self._actions = [[] for _ in self.envs]
        obs = [env.reset(seed=s)[0] for env, s in zip(self.envs, seeds)]
        return np.asarray(obs, dtype=self._obs_dtype)

    def step(self, actions: np.ndarray) -> VecStep:
        """Steps each env, keeps episode returns and lengths, resets the envs whose episode ended."""
        out = self._step_one(actions) if self.num_envs == 1 else self._step_many(actions)
        if self._check_steps:  # the env checker compares the first two steps; then its layers can go
            self._check_steps -= 1
            self.envs = [skip_done_checks(env) for env in self.envs]
        return out

    def _step_many(self, actions: np.ndarray) -> VecStep:
        """step() for any number of envs, one after another."""
        obs, next_obs, rewards, terms, truncs, infos, finished = [], [], [], [], [], [], []
        returns, lengths, played = self._returns, self._lengths, self._actions
        for i, (env, action) in enumerate(zip(self.envs, per_env_actions(actions))):
            o, r, term, trunc, info = env.step(action)
            next_obs.append(o)
            returns[i] += r
            lengths[i] += 1
            played[i].append(action if self._keep[i] else None)
            if term or trunc:
                ended, o = self._autoreset(i)
                finished.append(ended)
            obs.append(o)
            rewards.append(r)
            terms.append(term)
            truncs.append(trunc)
            infos.append(info)
        obs_arr, rewards_arr = np.asarray(obs, dtype=self._obs_dtype), np.asarray(rewards, dtype=np.float64)
        if not finished:  # then next_obs == obs and no flag is set: skip three conversions
            return VecStep(obs_arr, obs_arr, rewards_arr, self._no_end, self._no_end, infos, finished)
        return VecStep(
            obs_arr,
            np.asarray(next_obs, dtype=self._obs_dtype),
            rewards_arr,
            np.asarray(terms, dtype=bool),
            np.asarray(truncs, dtype=bool),
            infos,
            finished,
        )

    def _step_one(self, actions: np.ndarray) -> VecStep:
        """step() for one env: the same values, without the per-env lists (a few microseconds a step)."""
        env = self.envs[0]
        action = actions.tolist()[0] if actions.ndim == 1 else per_env_actions(actions)[0]
        o, r, term, trunc, info = env.step(action)
        self._returns[0] += r
        self._lengths[0] += 1
        self._actions[0].append(action if self._keep[0] else None)
        self._reward[0] = r
        reward = self._reward.copy()
        if not (term or trunc):  # tuple.__new__: a VecStep without NamedTuple's Python-level __new__
            obs = self._batch_of_one(o)
            return _new_tuple(VecStep, (obs, obs, reward, self._no_end, self._no_end, [info], []))
        next_obs = self._batch_of_one(o)
        ended, o = self._autoreset(0)
        obs = self._batch_of_one(o)
        flags = np.array((term,), dtype=bool), np.array((trunc,), dtype=bool)
        return VecStep(obs, next_obs, reward, *flags, [info], [ended])

    def _batch_of_one(self, o: Any) -> np.ndarray:
        """np.array((o,), obs dtype), the one env's observation as a batch, made the cheapest way (a new array
        each time, the same values): a scalar (Discrete) one through a (1,) buffer (0.18 against 0.35 us), an
        array of the right dtype copied as o[None].copy() (0.5 against 1.4 us)."""
        if self._scalar_obs is not None:
            self._scalar_obs[0] = o
            return self._scalar_obs.copy()
        if type(o) is np.ndarray and o.dtype == self._obs_dtype:
            return o[None].copy()
        return np.array((o,), self._obs_dtype)

    def _autoreset(self, i: int) -> tuple[tuple[int, float, int], Any]:
        """Ends env i's episode: its (index, return, length), and the first observation of the next one."""
        env = self.envs[i]
        ended = (i, float(self._returns[i]), self._lengths[i])
        self._returns[i], self._lengths[i], self._actions[i] = 0.0, 0, []
        self._starts[i] = {"seed": None, "rng": _rng_state(env)}
        return ended, env.reset()[0]

    def state_dict(self) -> dict[str, Any]:
        """How each env's current episode began, the actions since, and its running return and length."""
        return {
            "starts": [dict(s) for s in self._starts],
            "actions": [[_plain(a) for a in played] for played in self._actions],
            "returns": list(self._returns),
            "lengths": list(self._lengths),
        }

    def load_state_dict(self, state: dict[str, Any]) -> np.ndarray:
        """Rebuilds each env's current episode (reset as it was, then replay); returns the observations."""
        obs = []
        for i, env in enumerate(self.envs):
            start = state["starts"][i]
            o, _ = env.reset(seed=start["seed"] if start["rng"] is None else 0)
            if start["rng"] is not None:
                env.unwrapped.np_random.bit_generator.state = start["rng"]
                o, _ = env.reset()
            for action in state["actions"][i]:
                o, *_ = env.step(placeholder_action(env) if action is None else action)
            obs.append(o)
        self._starts = [dict(s) for s in state["starts"]]
        self._actions = [list(a) for a in state["actions"]]
        self._returns, self._lengths = list(state["returns"]), list(state["lengths"])
        return np.asarray(obs, dtype=self._obs_dtype)

    def render(self, index: int = 0) -> Any:
        """Renders one of the envs with its own render mode."""
        return self.envs[index].render()

    def close(self) -> None:
        """Closes every env."""
        for env in self.envs:
            env.close()


CHECKER_FLAGS = (("checked_reset", False), ("checked_step", False), ("checked_data_reuse", True))


def _done_checking(layer: gym.Env) -> bool:
    """Whether a wrapper is one of Gymnasium's checking layers with nothing left to check: order enforcing
    after the first reset; the env checker after the first reset, the first two steps (it compares them) and,
    when the env renders, the first render."""
    if isinstance(layer, OrderEnforcing):
        return bool(getattr(layer, "has_reset", False))
    if isinstance(layer, PassiveEnvChecker):  # Gymnasium < 1.4 has no data-reuse check: done after one step
        done = [getattr(layer, name, default) for name, default in CHECKER_FLAGS]
        return all(done) and (layer.render_mode is None or getattr(layer, "checked_render", False))
    return False


def skip_done_checks(env: gym.Env) -> gym.Env:
    """`env` with the checking layers that have nothing left to check taken out of its wrapper chain (each
    outer wrapper then calls the next one directly). gym.make puts them on every env; past their first calls
    they only pass calls on, about 0.25 us a step each (4% of a FrozenLake step in a tabular run)."""
    while _done_checking(env):
        env = env.env
    layer = env
    while isinstance(layer, gym.Wrapper):
        while _done_checking(layer.env):
            layer.env = layer.env.env
        layer = layer.env
    return env


_PLAIN_DTYPES = {"f": np.float64, "i": np.int64, "u": np.int64, "b": np.bool_}  # what .tolist() gives back


def per_env_actions(actions: np.ndarray) -> list[Any]:
    """Each env's action: Python scalars for one number per env (as `.tolist()` gives), else a fresh array.

    A big action (a GAN's generated minibatch, a supervised prediction) is not turned into nested lists
    (about 2 ms for 128x64 floats): each env gets its row of one copy, in the dtype the nested lists would
    have become again in the env (float64, int64, bool), so the env computes exactly what it did from lists.
    """
    actions = np.asarray(actions)
    dtype = _PLAIN_DTYPES.get(actions.dtype.kind)
    if actions.ndim <= 1 or dtype is None or actions.dtype == np.uint64:
        return actions.tolist()
    return list(np.array(actions, dtype=dtype))


def actions_are_ignored(env: gym.Env) -> bool:
    """Whether the env says its episodes do not depend on the actions played (`actions_ignored = True`).

    A supervised task's epoch shows the minibatches in the order its reset drew, whatever the answers: its
    episode is rebuilt by replaying as many placeholder actions, so the vector env keeps None instead of
    each action (a Char-RNN's action is 32 x 50 x 65 log-probabilities, which every checkpoint turned into
    Python lists). An env whose later steps read earlier answers (an epoch-level score) must not say so.
    """
    return bool(getattr(env.unwrapped, "actions_ignored", False))


def placeholder_action(env: gym.Env) -> np.ndarray:
    """Zeros shaped like one action of `env` (what a replay plays where the action was not kept)."""
    space = env.action_space
    return np.zeros(space.shape, dtype=space.dtype)


def _plain(action: Any) -> Any:
    """An action as plain data for a checkpoint (weights-only loading refuses numpy arrays)."""
    return action.tolist() if isinstance(action, np.ndarray) else action


def _rng_state(env: gym.Env) -> dict[str, Any] | None:
    """The env's RNG state (a plain dict), or None for an env that has none."""
    rng = getattr(env.unwrapped, "_np_random", None)
    return rng.bit_generator.state if rng is not None else None
