"""Replay buffers for off-policy agents: a plain one for any observation, and a frame buffer for Atari.

Why a frame buffer? An Atari observation is a stack of k 84x84 uint8 frames, and consecutive stacks share
k-1 frames. Storing obs and next_obs stacks costs 2k frames a transition (56 GB for 1M transitions at
k = 4); Stable-Baselines3's `optimize_memory_usage` still stores one stack (28 GB). `FrameReplayBuffer`
stores each frame once and rebuilds stacks at sample time (about 7.1 GB).

How it stays exact. Each env has a ring of frames. At the first transition of an episode the buffer writes
the k frames of the stack the agent saw (whatever padding the env used), then one frame per step: the newest
frame of `next_obs`. So the frames of an episode lie consecutively, and the transition whose obs stack starts
at frame s has obs = frames[s : s+k] and next_obs = frames[s+1 : s+k+1]; with n-step returns over m steps,
next_obs = frames[s+m : s+m+k]. A stack never reaches into another episode, because the window of a
transition is inside its own episode's run of frames by construction; no masking is needed at sample time.
The frame ring holds `frame_margin` (1%) more frames than the transition ring has slots, for the k extra
frames each episode start costs; when frames run out first (very short episodes), the oldest transitions
are dropped instead of ever being rebuilt from overwritten frames.

`capacity` counts transitions over all envs (each env gets capacity / num_envs slots, rounded up). With
n_step 1, a frame sample's obs and next_obs are two overlapping views of one gathered (B, k+1, H, W) array:
one copy of k+1 frames instead of two of k; treat them as read-only.

Same-step autoreset (rlkit/vector.py) means `Transition.next_obs` is the true final observation at an
episode end: on truncation the target bootstraps from it, on termination not at all (discount 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rlkit.core.errors import UserError, describe_space
from rlkit.core.replay.base import ReplayBase, ReplaySample, check_positive, nstep_targets
from rlkit.core.types import Transition

CHECK_STEPS = 64  # the first adds check that stacks roll as the buffer assumes (cheap, and only at first)

__all__ = ["FrameReplayBuffer", "ReplayBuffer", "ReplaySample", "make_replay_buffer", "nstep_targets"]


class ReplayBuffer(ReplayBase):
    """A replay buffer for any array observation: stores obs and next_obs of every transition."""

    def __init__(self, capacity: int, obs_space: Any, action_space: Any, num_envs: int = 1, **options: Any):
        super().__init__(capacity, obs_space, action_space, num_envs, **options)
        shape = (self.num_envs, self.capacity, *self.obs_shape)
        self.obs = np.zeros(shape, dtype=self.obs_dtype)
        self.next_obs = np.zeros(shape, dtype=self.obs_dtype)

    def _store_obs(self, t: Transition, pos: int, done: np.ndarray) -> None:
        self.obs[:, pos] = t.obs
        self.next_obs[:, pos] = t.next_obs

    def _gather_obs(
        self, env: np.ndarray, pos: np.ndarray, steps: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        last = pos if self.n_step == 1 else (pos + steps - 1) % self.capacity
        return self.obs[env, pos], self.next_obs[env, last]

    def _arrays(self) -> dict[str, np.ndarray]:
        return super()._arrays() | {"obs": self.obs, "next_obs": self.next_obs}


class FrameReplayBuffer(ReplayBase):
    """A replay buffer for stacks of k frames, shape (k, H, W): each frame stored once per env stream."""

    def __init__(
        self,
        capacity: int,
        obs_space: Any,
        action_space: Any,
        num_envs: int = 1,
        *,
        frame_margin: float = 0.01,
        **options: Any,
    ):
        super().__init__(capacity, obs_space, action_space, num_envs, **options)
        if len(self.obs_shape) < 2:
            raise UserError(
                f"FrameReplayBuffer needs observations shaped (frame_stack, H, W); got {self.obs_shape}"
            )
        check_positive("frame_margin", frame_margin, ">= 0", frame_margin >= 0.0)
        self.k = self.obs_shape[0]
        self.frame_capacity = self.capacity + max(math.ceil(self.capacity * frame_margin), self.k + 1)
        frame_shape = self.obs_shape[1:]
        self.frames = np.zeros((self.num_envs, self.frame_capacity, *frame_shape), dtype=self.obs_dtype)
        self.starts = np.zeros((self.num_envs, self.capacity), dtype=np.int64)  # absolute frame of obs[0]
        # Per-env counters as plain ints and bools: a loop over a few envs beats numpy calls in add().
        self._written = [0] * self.num_envs  # frames written per env (absolute)
        self._opening = [True] * self.num_envs  # the next transition opens an episode
        self._stack = np.arange(self.k)
        self._stack_and_next = np.arange(self.k + 1)

    def _store_obs(self, t: Transition, pos: int, done: np.ndarray) -> None:
        k, cap, frames, starts, written = self.k, self.frame_capacity, self.frames, self.starts, self._written
        for e, opening in enumerate(self._opening):
            w = written[e]
            if opening:  # the whole first stack of an episode, exactly as the agent saw it
                frames[e, (w + self._stack) % cap] = t.obs[e]
                w += k
            elif self.added < CHECK_STEPS:
                self._check_rolling(t.obs[e], e, w)
            starts[e, pos] = w - k
            frames[e, w % cap] = t.next_obs[e, -1]  # then one new frame per step
            written[e] = w + 1
        self._opening = done.tolist()

    def _check_rolling(self, obs: np.ndarray, env: int, w: int) -> None:
        """Refuses observations that are not rolling frame stacks (newest last): it could not rebuild them."""
        if not np.array_equal(self.frames[env, (w - self.k + self._stack) % self.frame_capacity], obs):
            raise UserError(
                "FrameReplayBuffer needs rolling frame stacks shaped (k, H, W): within an episode each obs "
                "must be the previous next_obs, the last k frames with the newest last; this env's are not"
            )

    def _advance_lo(self) -> None:
        """Raises `lo` past overwritten transitions and past those any of whose frames are overwritten."""
        lows, cap, starts, added = self.lo.tolist(), self.capacity, self.starts, self.added
        floor = added - cap
        for e, lo in enumerate(lows):
            lo, oldest_frame = max(lo, floor), self._written[e] - self.frame_capacity
            if oldest_frame > 0:
                while lo < added and starts[e, lo % cap] < oldest_frame:
                    lo += 1
            lows[e] = lo
        self.lo[:] = lows

    def _gather_obs(
        self, env: np.ndarray, pos: np.ndarray, steps: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        start, rows, cap = self.starts[env, pos], env[:, None], self.frame_capacity
        if self.n_step == 1:  # one gather of k+1 frames; obs and next_obs are two views of it
            frames = self.frames[rows, (start[:, None] + self._stack_and_next) % cap]
            return frames[:, :-1], frames[:, 1:]
        first = np.stack([start, start + steps], axis=1)  # obs and next_obs stacks in one gather
        frames = self.frames[rows, ((first[:, :, None] + self._stack) % cap).reshape(len(start), -1)]
        return frames[:, : self.k], frames[:, self.k :]

    def _arrays(self) -> dict[str, np.ndarray]:
        return super()._arrays() | {"starts": self.starts}

    @property
    def nbytes(self) -> int:
        """Memory held by the storage arrays (pages are touched lazily, as they fill)."""
        return super().nbytes + self.frames.nbytes

    def _counters(self) -> dict[str, np.ndarray]:
        counters = {"written": np.array(self._written, np.int64), "opening": np.array(self._opening, bool)}
        return super()._counters() | counters

    def state_dict(self) -> dict[str, Any]:
        """As ReplayBase.state_dict, plus the written part of the frame ring."""
        import torch  # only checkpoints need torch; the buffers themselves are numpy

        state = super().state_dict()
        filled = min(max(self._written), self.frame_capacity)
        state["arrays"]["frames"] = torch.from_numpy(np.ascontiguousarray(self.frames[:, :filled]))
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """As ReplayBase.load_state_dict, plus the frame ring."""
        super().load_state_dict(state)
        frames = state["arrays"]["frames"]
        frames = frames.numpy() if hasattr(frames, "numpy") else np.asarray(frames)
        if frames.shape[2:] != self.frames.shape[2:] or frames.shape[1] > self.frame_capacity:
            raise UserError(
                f"saved frames {tuple(frames.shape)} do not fit this buffer's {self.frames.shape}"
            )
        self.frames[:, : frames.shape[1]] = frames
        arrays = state["arrays"]
        self._written = [int(w) for w in arrays["written"].tolist()]
        self._opening = [bool(o) for o in arrays["opening"].tolist()]


def make_replay_buffer(
    capacity: int,
    obs_space: Any,
    action_space: Any,
    num_envs: int,
    *,
    frame_stack: int | None = None,
    n_step: int = 1,
    gamma: float = 0.99,
    prioritized: bool = False,
    alpha: float = 0.6,
    beta: float = 0.4,
    seed: int = 0,
    frame_margin: float = 0.01,
) -> ReplayBuffer | FrameReplayBuffer:
    """A FrameReplayBuffer when `frame_stack` is set (obs shaped (frame_stack, H, W)), else a ReplayBuffer."""
    options = dict(n_step=n_step, gamma=gamma, prioritized=prioritized, alpha=alpha, beta=beta, seed=seed)
    if not frame_stack:
        return ReplayBuffer(capacity, obs_space, action_space, num_envs, **options)
    shape = tuple(getattr(obs_space, "shape", None) or ())
    if len(shape) != 3 or shape[0] != frame_stack:
        raise UserError(
            f"frame_stack={frame_stack} needs observations shaped ({frame_stack}, H, W), but the observation "
            f"space is {describe_space(obs_space)}"
        )
    return FrameReplayBuffer(
        capacity, obs_space, action_space, num_envs, frame_margin=frame_margin, **options
    )
