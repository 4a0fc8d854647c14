"""Replay buffers: the sampled transitions are exactly the ones added (stacks, next stacks, n-step sums),
across wraparound, episode ends, truncation vs termination, several envs and prioritised replay."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlkit.core.errors import UserError
from rlkit.core.replay.buffers import FrameReplayBuffer, ReplayBuffer, make_replay_buffer, nstep_targets
from rlkit.core.types import Transition

FRAME = (2, 3)
IDS = gym.spaces.Discrete(10**9)  # actions are unique transition ids, so a sample says which one it is


def stack_space(k: int) -> gym.spaces.Box:
    return gym.spaces.Box(0, 255, (k, *FRAME), np.uint8)


class Stream:
    """Envs emitting random k-frame stacks, ending episodes at random; keeps every transition as reference."""

    def __init__(self, num_envs: int, k: int, p_end: float, seed: int):
        self.num_envs, self.k, self.p_end = num_envs, k, p_end
        self.rng = np.random.default_rng(seed)
        self.stacks = [self._first_stack() for _ in range(num_envs)]
        self.log: list[list[tuple]] = [
            [] for _ in range(num_envs)
        ]  # per env: (obs, reward, next, term, trunc)

    def _frame(self) -> np.ndarray:
        return self.rng.integers(0, 256, FRAME, dtype=np.uint8)

    def _first_stack(self) -> np.ndarray:
        frame, pad = self._frame(), self.rng.integers(3)  # zero padding, repeated frame, or all new frames
        frames = [
            np.zeros(FRAME, np.uint8) if pad == 0 else frame if pad == 1 else self._frame()
            for _ in range(self.k - 1)
        ]
        return np.stack([*frames, frame])

    def step(self) -> Transition:
        obs, nxt, rew, term, trunc = [], [], [], [], []
        for e in range(self.num_envs):
            s = self.stacks[e]
            n = np.concatenate([s[1:], self._frame()[None]])
            ended = self.rng.random() < self.p_end
            te = ended and bool(self.rng.random() < 0.5)
            tr = ended and not te
            r = float(self.rng.normal())
            self.log[e].append((s, r, n, te, tr))
            obs.append(s), nxt.append(n), rew.append(r), term.append(te), trunc.append(tr)
            self.stacks[e] = self._first_stack() if ended else n
        step = len(self.log[0]) - 1
        ids = np.array([step * self.num_envs + e for e in range(self.num_envs)], dtype=np.int64)
        return Transition(np.stack(obs), ids, np.array(rew), np.stack(nxt), np.array(term), np.array(trunc))

    def expected(self, env: int, a: int, n: int, gamma: float) -> tuple | None:
        """(obs, n-step reward, next obs, discount) of transition a of env, or None if its window is open."""
        log, ret = self.log[env], 0.0
        for j in range(n):
            if a + j >= len(log):
                return None
            obs, r, nxt, te, tr = log[a + j]
            ret += gamma**j * r
            if te or tr or j == n - 1:
                return log[a][0], ret, nxt, 0.0 if te else gamma ** (j + 1)
        raise AssertionError("unreachable")


def check_batch(buf, stream: Stream, n: int, gamma: float, batch: int) -> None:
    """Every sampled transition is whole, recent enough, and exactly what was added."""
    s = buf.sample(batch)
    added = len(stream.log[0])
    assert s.obs.shape == (batch, stream.k, *FRAME) and s.obs.dtype == np.uint8
    assert s.reward.dtype == s.discount.dtype == s.weights.dtype == np.float32 and s.indices.dtype == np.int64
    assert ((s.weights > 0) & (s.weights <= 1 + 1e-6)).all()
    wants = []
    for ident in s.action.tolist():
        a, env = divmod(ident, stream.num_envs)
        assert a >= added - buf.capacity, "sampled a transition the ring has overwritten"
        wants.append(stream.expected(env, a, n, gamma))
        assert wants[-1] is not None, "sampled a transition whose n-step window is not complete"
    obs, ret, nxt, discount = (np.array(column) for column in zip(*wants))
    assert np.array_equal(s.obs, obs) and np.array_equal(s.next_obs, nxt)
    np.testing.assert_allclose(s.reward, ret, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s.discount, discount, rtol=1e-6)


def complete_count(stream: Stream, capacity: int, n: int) -> int:
    added = len(stream.log[0])
    return sum(
        stream.expected(e, a, n, 0.5) is not None
        for e in range(stream.num_envs)
        for a in range(max(0, added - capacity), added)
    )


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    num_envs=st.integers(1, 3),
    k=st.integers(1, 3),
    capacity=st.integers(1, 12),
    n_step=st.integers(1, 3),
    p_end=st.sampled_from([0.0, 0.1, 0.4, 1.0]),
    steps=st.integers(1, 80),
    prioritized=st.booleans(),
    frame_margin=st.sampled_from([0.0, 0.5]),
)
def test_samples_are_exactly_the_added_transitions(
    seed, num_envs, k, capacity, n_step, p_end, steps, prioritized, frame_margin
) -> None:
    gamma = 0.9
    stream = Stream(num_envs, k, p_end, seed)
    opts = dict(n_step=n_step, gamma=gamma, prioritized=prioritized, seed=seed)
    frames = FrameReplayBuffer(capacity, stack_space(k), IDS, num_envs, frame_margin=frame_margin, **opts)
    plain = ReplayBuffer(capacity, stack_space(k), IDS, num_envs, **opts)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        t = stream.step()
        frames.add(t)
        plain.add(t)
        expected = complete_count(stream, plain.capacity, n_step)
        assert len(plain) == expected  # the plain ring keeps every complete transition of its last slots
        assert len(frames) <= expected
        if n_step == 1:
            assert len(frames) >= 1  # the newest transition is always whole
        for buf in (frames, plain):
            if len(buf):
                check_batch(buf, stream, n_step, gamma, batch=6)
                buf.update_priorities(rng.integers(buf.capacity * num_envs, size=4), rng.random(4) * 3)


def test_nstep_targets_by_hand() -> None:
    rewards = np.array([[1.0, 2.0, 3.0]] * 4)
    terminated = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=bool)
    done = np.array([[0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=bool)  # row 2: truncated at once
    returns, discounts, steps = nstep_targets(rewards, terminated, done, 0.5)
    np.testing.assert_allclose(returns, [1 + 0.5 * 2 + 0.25 * 3, 1 + 0.5 * 2, 1.0, 2.75])
    np.testing.assert_allclose(discounts, [0.125, 0.0, 0.5, 0.0])
    assert steps.tolist() == [3, 2, 1, 3]


def labelled(*labels: int) -> np.ndarray:
    """A stack whose frames are filled with the given labels (one env)."""
    return np.stack([np.full(FRAME, v, np.uint8) for v in labels])[None]


def add_step(buf, obs, action, reward, nxt, term=False, trunc=False) -> None:
    buf.add(Transition(obs, np.array([action]), np.array([reward]), nxt, np.array([term]), np.array([trunc])))


def all_by_action(buf, draws: int = 400) -> dict[int, tuple]:
    """Samples enough to see every sampleable transition: action -> (obs labels, next labels, ...)."""
    s = buf.sample(draws)
    seen = {}
    for i, a in enumerate(s.action.tolist()):
        seen[a] = (
            s.obs[i, :, 0, 0].tolist(),
            s.next_obs[i, :, 0, 0].tolist(),
            float(s.reward[i]),
            float(s.discount[i]),
        )
    return seen


def test_no_stack_crosses_an_episode_boundary_and_truncation_bootstraps() -> None:
    buf = make_replay_buffer(100, stack_space(2), IDS, 1, frame_stack=2, gamma=0.5)
    add_step(buf, labelled(1, 2), 0, 1.0, labelled(2, 3))
    add_step(buf, labelled(2, 3), 1, 1.0, labelled(3, 4), term=True)  # the next episode is padded with 0
    add_step(buf, labelled(0, 7), 2, 1.0, labelled(7, 8), trunc=True)  # truncated: bootstrap from [7, 8]
    add_step(buf, labelled(9, 9), 3, 1.0, labelled(9, 10))
    assert all_by_action(buf) == {
        0: ([1, 2], [2, 3], 1.0, 0.5),
        1: ([2, 3], [3, 4], 1.0, 0.0),  # terminated: no bootstrap
        2: ([0, 7], [7, 8], 1.0, 0.5),  # not [4, 7]: frames of the ended episode never leak in
        3: ([9, 9], [9, 10], 1.0, 0.5),
    }


def test_nstep_windows_stop_at_episode_ends_and_open_windows_wait() -> None:
    buf = make_replay_buffer(100, stack_space(1), IDS, 1, frame_stack=1, n_step=3, gamma=0.5)
    for a in range(4):  # rewards 1, 2, 4, 8 in one running episode
        add_step(buf, labelled(a), a, 2.0**a, labelled(a + 1))
    assert len(buf) == 2  # transitions 2 and 3 wait for their third step
    assert all_by_action(buf) == {0: ([0], [3], 1 + 1 + 1.0, 0.125), 1: ([1], [4], 2 + 2 + 2.0, 0.125)}
    add_step(buf, labelled(4), 4, 16.0, labelled(5), term=True)
    assert len(buf) == 5  # the episode end closes every open window
    seen = all_by_action(buf)
    assert seen[3] == ([3], [5], 8 + 8.0, 0.0) and seen[4] == ([4], [5], 16.0, 0.0)


def test_wraparound_keeps_only_the_newest_transitions() -> None:
    buf = make_replay_buffer(5, stack_space(2), IDS, 1, frame_stack=2, frame_margin=0.0)
    for a in range(23):
        add_step(buf, labelled(a, a + 1), a, 0.0, labelled(a + 1, a + 2))
    seen = all_by_action(buf)
    assert len(buf) == 5 and sorted(seen) == [18, 19, 20, 21, 22]
    assert all(obs == [a, a + 1] and nxt == [a + 1, a + 2] for a, (obs, nxt, _, _) in seen.items())


def test_envs_are_separate_streams_and_uniform_covers_all() -> None:
    buf = make_replay_buffer(8, gym.spaces.Box(-1, 1, (3,), np.float32), gym.spaces.Box(-1, 1, (2,)), 2)
    for a in range(6):
        obs = np.array([[a, 0, 0], [a, 1, 0]], np.float32)
        nxt = obs + np.array([1, 0, 0], np.float32)
        act = np.array([[a, 0], [a, 1]], np.float32)
        buf.add(Transition(obs, act, np.zeros(2), nxt, np.zeros(2, bool), np.zeros(2, bool)))
    s = buf.sample(2000)
    assert s.action.dtype == np.float32 and s.action.shape == (2000, 2)
    np.testing.assert_array_equal(s.next_obs[:, 0], s.obs[:, 0] + 1)
    np.testing.assert_array_equal(s.obs[:, 1], s.action[:, 1])  # each env's own stream
    pairs = {tuple(x) for x in s.action.astype(int).tolist()}
    assert pairs == {(a, e) for a in range(2, 6) for e in range(2)}  # 4 slots per env, oldest gone


def test_priorities_weights_and_max_priority_for_new_transitions() -> None:
    buf = make_replay_buffer(10, stack_space(1), IDS, 1, frame_stack=1, prioritized=True, alpha=1.0, beta=1.0)
    for a in range(3):
        add_step(buf, labelled(a), a, 0.0, labelled(a + 1))
    s = buf.sample(300)
    slot = dict(zip(s.action.tolist(), s.indices.tolist()))
    buf.update_priorities(np.array([slot[0], slot[1], slot[2]]), np.array([1.0, 2.0, 4.0]))
    s = buf.sample(7000)
    freq = np.bincount(s.action, minlength=3) / 7000
    np.testing.assert_allclose(freq, [1 / 7, 2 / 7, 4 / 7], atol=0.02)
    np.testing.assert_allclose(s.weights, (1.0 / np.array([1.0, 2.0, 4.0]))[s.action], rtol=1e-4)
    add_step(buf, labelled(3), 3, 0.0, labelled(4))  # a new transition gets the max priority so far: 4
    freq = np.bincount(buf.sample(11000).action, minlength=4) / 11000
    np.testing.assert_allclose(freq, [1 / 11, 2 / 11, 4 / 11, 4 / 11], atol=0.02)
    buf.set_beta(0.0)
    assert (buf.sample(5).weights == 1.0).all()


@pytest.mark.parametrize("frame_stack", [None, 2])
@pytest.mark.parametrize("prioritized", [False, True])
def test_state_dict_round_trips_through_a_weights_only_checkpoint(tmp_path, frame_stack, prioritized) -> None:
    def make():
        return make_replay_buffer(
            6, stack_space(2), IDS, 2, frame_stack=frame_stack, n_step=2, prioritized=prioritized, seed=3
        )

    stream, buf = Stream(2, 2, 0.2, seed=1), make()
    for _ in range(11):
        buf.add(stream.step())
    if prioritized:
        buf.update_priorities(np.arange(6), np.arange(6.0))
    torch.save(buf.state_dict(), tmp_path / "buf.pt")
    copy = make()
    copy.load_state_dict(torch.load(tmp_path / "buf.pt", weights_only=True))
    for _ in range(3):
        t = stream.step()
        buf.add(t)
        copy.add(t)
        for a, b in zip(buf.sample(16), copy.sample(16)):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(UserError, match="does not fit"):
        make_replay_buffer(7, stack_space(2), IDS, 2, frame_stack=frame_stack, n_step=2).load_state_dict(
            buf.state_dict()
        )


def test_stacks_that_do_not_roll_are_refused() -> None:
    buf = make_replay_buffer(10, stack_space(2), IDS, 1, frame_stack=2)
    add_step(buf, labelled(1, 2), 0, 0.0, labelled(2, 3))
    with pytest.raises(UserError, match="rolling frame stacks"):
        add_step(buf, labelled(5, 6), 1, 0.0, labelled(6, 7))  # same episode, but not the previous next_obs
