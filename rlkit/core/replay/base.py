"""What every replay buffer shares: per-env rings, n-step targets, uniform and prioritised sampling.

Each env is its own stream with its own ring of `capacity // num_envs` slots (rounded up), so streams never
interleave and "the transition after this one" is always the next slot of the same env. Every `add` writes
one transition per env, so all envs share one write cursor; a transition is named by its env and its
absolute index `a` (the a-th transition that env produced), which lives in slot `a % capacity`.

Per env, the transitions that can be sampled are the absolute indices in [lo, hi):
- lo: the oldest transition still whole (its slot not overwritten; for frame buffers also its frames).
- hi: transitions whose n-step window is complete: all but the latest n-1 of an episode that is still
  running. Those wait (they are never sampled) until n-1 more steps arrive or their episode ends.
Storing obs is left to subclasses (`_store_obs`, `_gather_obs`); see rlkit/buffers.py.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from rlkit.core.errors import UserError
from rlkit.core.replay.sumtree import SumTree
from rlkit.core.types import Transition

PRIORITY_EPS = 1e-6  # keeps every priority positive, so no stored transition is starved


class ReplaySample(NamedTuple):
    """A batch drawn from a replay buffer (leading axis = batch)."""

    obs: np.ndarray  # (B, *obs_shape), stored dtype
    action: np.ndarray  # (B,) int64, or (B, *action_shape)
    reward: np.ndarray  # (B,) float32: n-step discounted reward sum within the episode
    next_obs: np.ndarray  # (B, *obs_shape): the obs m <= n steps later (the true final obs at an episode end)
    discount: np.ndarray  # (B,) float32: gamma**m, or 0.0 where the episode terminated within the m steps
    weights: np.ndarray  # (B,) float32 importance-sampling weights (ones without prioritised replay)
    indices: np.ndarray  # (B,) int64 slots, for update_priorities


def nstep_targets(
    rewards: np.ndarray, terminated: np.ndarray, done: np.ndarray, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n-step reward sums, bootstrap discounts and step counts from (B, n) windows of consecutive steps.

    Step j counts while no earlier step of the window ended the episode; m is the number of steps counted.
    The discount is gamma**m, or 0 when the last counted step terminated (a truncation still bootstraps).
    """
    n = rewards.shape[1]
    alive = np.ones(done.shape, dtype=bool)
    alive[:, 1:] = np.logical_and.accumulate(~done[:, :-1], axis=1)
    returns = (rewards * (gamma ** np.arange(n)) * alive).sum(axis=1)
    steps = alive.sum(axis=1)
    ended_by_termination = terminated[np.arange(len(steps)), steps - 1]
    discounts = np.where(ended_by_termination, 0.0, float(gamma) ** steps)
    return returns, discounts, steps


def space_layout(space: Any, what: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype to store one element of a Gymnasium space with (Box, Discrete, Multi*)."""
    shape, dtype = getattr(space, "shape", None), getattr(space, "dtype", None)
    if shape is None or dtype is None:
        raise UserError(f"replay buffers store array {what}s (Box, Discrete, MultiDiscrete); got {space}")
    return tuple(shape), np.dtype(dtype)


def check_positive(name: str, value: float, allowed: str, ok: bool) -> None:
    """Raises UserError naming the replay-buffer argument when `ok` is false."""
    if not ok:
        raise UserError(f"replay buffer: {name}={value!r} is invalid: it must be {allowed}")


class ReplayBase:
    """Rings of actions, rewards and episode flags per env; subclasses store the observations."""

    def __init__(
        self,
        capacity: int,
        obs_space: Any,
        action_space: Any,
        num_envs: int,
        *,
        n_step: int = 1,
        gamma: float = 0.99,
        prioritized: bool = False,
        alpha: float = 0.6,
        beta: float = 0.4,
        seed: int = 0,
    ):
        check_positive("capacity", capacity, "an integer >= 1", isinstance(capacity, int) and capacity >= 1)
        check_positive("num_envs", num_envs, "an integer >= 1", isinstance(num_envs, int) and num_envs >= 1)
        check_positive("n_step", n_step, "an integer >= 1", isinstance(n_step, int) and n_step >= 1)
        check_positive("gamma", gamma, "in [0, 1]", 0.0 <= gamma <= 1.0)
        check_positive("alpha", alpha, ">= 0", alpha >= 0.0)
        check_positive("beta", beta, ">= 0", beta >= 0.0)
        self.num_envs, self.n_step, self.gamma = num_envs, n_step, float(gamma)
        self.capacity = -(-capacity // num_envs)  # slots per env
        self.obs_shape, self.obs_dtype = space_layout(obs_space, "observation")
        action_shape, action_dtype = space_layout(action_space, "action")
        cap, shape = self.capacity, (num_envs, self.capacity)
        self.action = np.zeros((*shape, *action_shape), dtype=action_dtype)
        self.reward = np.zeros(shape, dtype=np.float32)
        self.terminated = np.zeros(shape, dtype=bool)
        self.done = np.zeros(shape, dtype=bool)
        self.added = 0  # transitions added per env (the same for every env)
        self.lo = np.zeros(num_envs, dtype=np.int64)  # oldest whole transition per env (absolute index)
        self.last_done = np.full(num_envs, -1, dtype=np.int64)  # latest episode end per env (absolute)
        self.rng = np.random.default_rng(seed)
        self.alpha, self.beta = float(alpha), float(beta)
        self.tree = SumTree(num_envs * cap) if prioritized else None
        self.max_priority = 1.0
        self._env_ids = np.arange(num_envs)
        self._window = np.arange(n_step)

    # ----- adding ------------------------------------------------------------------------------------------
    def add(self, t: Transition) -> None:
        """Stores one transition per env; `t.next_obs` is the true next obs (the final one at an end)."""
        pos = self.added % self.capacity
        terminated = np.asarray(t.terminated, dtype=bool)
        done = terminated | np.asarray(t.truncated, dtype=bool)
        if self.tree is not None:
            lo0, hi0 = self.lo.copy(), self._hi()
        self.action[:, pos] = t.action
        self.reward[:, pos] = t.reward
        self.terminated[:, pos] = terminated
        self.done[:, pos] = done
        self._store_obs(t, pos, done)
        self.added += 1
        self._advance_lo()
        self.last_done[done] = self.added - 1
        if self.tree is not None:
            self._track_priorities(lo0, hi0)

    def _store_obs(self, t: Transition, pos: int, done: np.ndarray) -> None:
        raise NotImplementedError

    def _advance_lo(self) -> None:
        """Raises `lo` past the transitions just overwritten (frame buffers: or whose frames are gone)."""
        if self.added > self.capacity:  # the ring has wrapped: slot pos held transition added - 1 - capacity
            np.maximum(self.lo, self.added - self.capacity, out=self.lo)

    def _gather_obs(
        self, env: np.ndarray, pos: np.ndarray, steps: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _hi(self) -> np.ndarray:
        """One past the newest sampleable transition per env (absolute index)."""
        return np.maximum(self.added - (self.n_step - 1), self.last_done + 1)

    def _track_priorities(self, lo0: np.ndarray, hi0: np.ndarray) -> None:
        """Zeroes the slots that stopped being sampleable and gives the newly sampleable ones max priority."""
        hi, cap = self._hi(), self.capacity
        dead, new = [], []
        for e in range(self.num_envs):
            base, lo_e = e * cap, int(self.lo[e])
            dead += [base + a % cap for a in range(int(lo0[e]), lo_e)]
            new += [base + a % cap for a in range(max(int(hi0[e]), lo_e), int(hi[e]))]
        if dead or new:  # new last: a slot both overwritten and newly sampleable ends at max priority
            values = [0.0] * len(dead) + [self.max_priority**self.alpha] * len(new)
            self.tree.update(np.array(dead + new, dtype=np.int64), np.array(values))

    # ----- sampling ----------------------------------------------------------------------------------------
    def __len__(self) -> int:
        """Transitions that sample() can return (stored, whole, and with a complete n-step window)."""
        return int(np.maximum(self._hi() - self.lo, 0).sum())

    def sample(self, batch_size: int) -> ReplaySample:
        """Draws `batch_size` transitions (with replacement), uniformly or by priority."""
        counts = np.maximum(self._hi() - self.lo, 0)
        total = int(counts.sum())
        if total == 0:
            raise ValueError("the replay buffer has no complete transition to sample yet (check len(buffer))")
        cap = self.capacity
        if self.tree is None:
            u = self.rng.integers(total, size=batch_size)
            if self.num_envs == 1:
                env, absolute = np.zeros(batch_size, dtype=np.int64), self.lo[0] + u
            else:
                ends = np.cumsum(counts)
                env = np.searchsorted(ends, u, side="right")
                absolute = self.lo[env] + u - (ends[env] - counts[env])
            pos = absolute % cap
            flat = env * cap + pos
            weights = np.ones(batch_size, dtype=np.float32)
        else:
            flat = self.tree.sample(batch_size, self.rng)
            env, pos = flat // cap, flat % cap
            weights = ((self.tree.get(flat) / self.tree.min) ** -self.beta).astype(np.float32)
        if self.n_step == 1:
            reward = self.reward[env, pos]
            discount = np.where(self.terminated[env, pos], 0.0, self.gamma).astype(np.float32)
            steps = np.ones(batch_size, dtype=np.int64)
        else:
            cols = (pos[:, None] + self._window) % cap
            rows = env[:, None]
            reward, discount, steps = nstep_targets(
                self.reward[rows, cols], self.terminated[rows, cols], self.done[rows, cols], self.gamma
            )
            reward, discount = reward.astype(np.float32), discount.astype(np.float32)
        obs, next_obs = self._gather_obs(env, pos, steps)
        return ReplaySample(obs, self.action[env, pos], reward, next_obs, discount, weights, flat)

    # ----- priorities --------------------------------------------------------------------------------------
    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Sets new priorities (e.g. |TD error|) for sampled slots; a no-op without prioritised replay.

        Slots that stopped being sampleable since they were drawn (overwritten) are skipped.
        """
        if self.tree is None:
            return
        flat = np.asarray(indices, dtype=np.int64)
        raw = np.abs(np.asarray(priorities, dtype=np.float64)) + PRIORITY_EPS
        env, pos = flat // self.capacity, flat % self.capacity
        newest = self.added - 1
        absolute = newest - (newest - pos) % self.capacity
        ok = (absolute >= self.lo[env]) & (absolute < self._hi()[env])
        self.tree.update(flat[ok], raw[ok] ** self.alpha)
        if raw.size:
            self.max_priority = max(self.max_priority, float(raw.max()))

    def set_beta(self, beta: float) -> None:
        """Sets the importance-sampling exponent (annealed towards 1 by the agent)."""
        check_positive("beta", beta, ">= 0", beta >= 0.0)
        self.beta = float(beta)

    # ----- memory and checkpoints --------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        """The per-slot storage arrays (env, slot, ...), by name."""
        return {
            "action": self.action,
            "reward": self.reward,
            "terminated": self.terminated,
            "done": self.done,
        }

    @property
    def nbytes(self) -> int:
        """Memory held by the storage arrays (pages are touched lazily, as they fill)."""
        return sum(a.nbytes for a in self._arrays().values()) + (self.tree.nbytes if self.tree else 0)

    def _counters(self) -> dict[str, np.ndarray]:
        return {"lo": self.lo, "last_done": self.last_done}

    def state_dict(self) -> dict[str, Any]:
        """The filled part of the storage as torch tensors (sharing memory), counters and the RNG state."""
        import torch  # only checkpoints need torch; the buffers themselves are numpy

        filled = min(self.added, self.capacity)
        arrays = {k: v[:, :filled] for k, v in self._arrays().items()} | self._counters()
        if self.tree is not None:
            arrays["priorities"] = self.tree.priorities()
        return {
            "kind": type(self).__name__,
            "num_envs": self.num_envs,
            "capacity": self.capacity,
            "n_step": self.n_step,
            "added": self.added,
            "max_priority": self.max_priority,
            "beta": self.beta,
            "rng": self.rng.bit_generator.state,
            "arrays": {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores what state_dict() returned (from tensors or arrays) into a buffer of the same layout."""
        mine = (type(self).__name__, self.num_envs, self.capacity, self.n_step)
        theirs = (state.get("kind"), state.get("num_envs"), state.get("capacity"), state.get("n_step"))
        if mine != theirs:
            raise UserError(
                f"saved replay buffer (kind, num_envs, capacity per env, n_step) = {theirs} does not fit "
                f"this buffer's {mine}"
            )
        arrays = {k: v.numpy() if hasattr(v, "numpy") else np.asarray(v) for k, v in state["arrays"].items()}
        for name, target in (self._arrays() | self._counters()).items():
            src = arrays[name]
            if target.ndim == 1:
                target[:] = src
            else:
                target[:, : src.shape[1]] = src
        self.added, self.max_priority = int(state["added"]), float(state["max_priority"])
        self.beta = float(state["beta"])
        self.rng.bit_generator.state = state["rng"]
        if self.tree is not None:
            if "priorities" in arrays:
                self.tree.set_all(arrays["priorities"])
            else:  # saved without prioritised replay: every sampleable transition starts at max priority
                self.tree.set_all(np.zeros(self.tree.size))
                self._track_priorities(self.lo, np.minimum(self.lo, self._hi()))
