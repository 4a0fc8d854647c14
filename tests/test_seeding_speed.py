"""Issue 13 follow-up: agents' private random streams stay exact while their per-step swap gets cheap.

RandomStream can swap NumPy's global generator by copying only its MT19937 key and position (a memory copy)
for blocks that draw no normals; the reference everywhere is what the original get_state/set_state swap gave:
the stream draws exactly as a private RandomState(seed) would, and the caller's generator (cached gaussian
included) is left as it was.
"""

from __future__ import annotations

import random

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlkit.agents.sb3 import SB3Config, sb3_agent
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext, Transition
from rlkit.frontend.app import build_runner
from rlkit.frontend.compose import compose_config

FAST = ("num_threads=1", "device=cpu", "ui=none")


def _same_legacy_state(a: tuple, b: tuple) -> bool:
    """Equal legacy NumPy states: key, position and the cached gaussian."""
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and tuple(a[2:]) == tuple(b[2:])


def test_mt_copy_swap_draws_what_the_full_swap_draws_and_leaves_the_caller_alone() -> None:
    stream = RandomStream(5, python_numpy=True)
    private = np.random.RandomState(5)  # what the original swap made the stream draw
    np.random.seed(123)
    np.random.normal()  # the caller's generator now holds a cached second gaussian
    caller = np.random.RandomState()
    caller.set_state(np.random.get_state())
    python_before = random.getstate()
    for _ in range(3):
        with stream.active(python=False, numpy_normals=False):
            assert np.random.rand() == private.rand()
            assert np.array_equal(np.random.randint(0, 10, size=5), private.randint(0, 10, size=5))
            assert np.array_equal(np.random.permutation(7), private.permutation(7))
        assert np.random.normal() == caller.normal()  # the caller's cached gaussian is its own
        with stream.active():
            # an odd count: the stream keeps a gaussian cached across the next MT-copy block
            assert np.array_equal(np.random.normal(size=3), private.normal(size=3))
        assert np.random.rand() == caller.rand()
    assert _same_legacy_state(np.random.get_state(), caller.get_state())
    assert random.getstate() == python_before

    restored = RandomStream(0, python_numpy=True)
    restored.load_state_dict(stream.state_dict())  # a checkpoint taken after MT-copy blocks
    with restored.active(python=False, numpy_normals=False):
        assert np.random.rand() == private.rand()
    with restored:
        assert np.random.normal() == private.normal()
    assert _same_legacy_state(np.random.get_state(), caller.get_state())


class _OldSwap:
    """The original RandomStream swap (get_state / set_state of every generator), as the reference."""

    def __init__(self, seed: int):
        torch_state = torch.Generator().manual_seed(seed).get_state()
        self.state = (torch_state, random.Random(seed).getstate(), np.random.RandomState(seed).get_state())

    def __enter__(self) -> None:
        self.outer = (torch.get_rng_state(), random.getstate(), np.random.get_state())
        torch.set_rng_state(self.state[0]), random.setstate(self.state[1]), np.random.set_state(self.state[2])

    def __exit__(self, *exc: object) -> None:
        self.state = (torch.get_rng_state(), random.getstate(), np.random.get_state())
        torch.set_rng_state(self.outer[0]), random.setstate(self.outer[1]), np.random.set_state(self.outer[2])


def _draw_sequence(stream, fast: bool) -> list:
    """Draws inside and between blocks, as a per-step act / update would; the caller holds a gaussian."""
    np.random.seed(1)
    np.random.normal()
    out: list = []
    for _ in range(4):
        with stream.active(python=False, numpy_normals=False) if fast else stream:
            out += [np.random.rand(), *np.random.randint(0, 100, 3), *np.random.permutation(5)]
            out += torch.rand(2).tolist()
        out.append(np.random.normal())
        with stream:
            out += [*np.random.normal(size=3), random.random(), torch.rand(1).item()]
        out.append(np.random.normal())
    state = np.random.get_state()
    return [*out, *state[1].tolist(), *state[2:]]


def test_same_draws_as_the_original_get_state_set_state_swap() -> None:
    assert _draw_sequence(RandomStream(4, python_numpy=True), fast=True) == _draw_sequence(_OldSwap(4), False)


def test_python_and_torch_streams_are_unchanged_by_the_new_options() -> None:
    stream = RandomStream(9, python_numpy=True)
    py, gen = random.Random(9), torch.Generator().manual_seed(9)
    torch.manual_seed(1)
    outer_torch = torch.get_rng_state()
    with stream.active(python=False, numpy=False):
        assert torch.equal(torch.rand(4), torch.rand(4, generator=gen))
    with stream:
        assert random.random() == py.random()
        assert torch.equal(torch.rand(2), torch.rand(2, generator=gen))
    assert torch.equal(torch.get_rng_state(), outer_torch)


class _Counting:
    """Counts calls of the slow legacy-state copies (np.random.get_state / set_state, random.getstate)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.calls = 0
        for module, name in ((np.random, "get_state"), (np.random, "set_state"), (random, "getstate")):
            monkeypatch.setattr(module, name, self._wrap(getattr(module, name)))

    def _wrap(self, fn):
        def counted(*args, **kwargs):
            self.calls += 1
            return fn(*args, **kwargs)

        return counted


def test_epsilon_greedy_act_and_idle_update_skip_the_slow_state_copy(monkeypatch) -> None:
    env = gym.make("CartPole-v1")
    ctx = AgentContext(env.observation_space, env.action_space, num_envs=1, seed=3, env_name="CartPole-v1")
    cfg = SB3Config(name="sb3_dqn", algo="DQN", env_id="CartPole-v1", hyperparams={"learning_starts": 0})
    agent = sb3_agent(cfg, ctx)
    counting = _Counting(monkeypatch)
    obs = np.zeros((1, 4), np.float32)
    for _ in range(5):  # epsilon-greedy draws np.random.rand() each step; train_freq 256: no training yet
        action = agent.act(obs)
        agent.observe(Transition(obs, action, np.ones(1), obs, np.zeros(1, bool), np.zeros(1, bool), [{}]))
        assert agent.update() == {}
    assert counting.calls == 0


def test_td3_with_action_noise_equals_sb3_learn(tmp_path) -> None:
    """Normal action noise draws gaussians from NumPy's global generator: act swaps its full state."""
    from stable_baselines3 import TD3
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.noise import NormalActionNoise

    torch.set_num_threads(1)
    hp = {"learning_starts": 20, "buffer_size": 1000, "batch_size": 16, "policy_kwargs": {"net_arch": [16]}}
    venv = make_vec_env("Pendulum-v1", n_envs=1, seed=0, env_kwargs={"max_episode_steps": 15})
    noise = NormalActionNoise(np.zeros(1), 0.1 * np.ones(1))
    ref = TD3("MlpPolicy", venv, seed=0, device="cpu", action_noise=noise, **hp).learn(60)
    overrides = [
        "agent=sb3", "agent.algo=TD3", "env=Pendulum-v1", "env.max_episode_steps=15", "total_steps=60",
        "agent.zoo=false", "eval.every=0", "eval.episodes=1", *FAST,
        *[f"++agent.hyperparams.{k}={v}" for k, v in hp.items() if k != "policy_kwargs"],
        "++agent.hyperparams.policy_kwargs={net_arch:[16]}",
    ]  # fmt: skip
    runner = build_runner(compose_config(overrides), tmp_path / "run")
    runner.agent.model.action_noise = NormalActionNoise(np.zeros(1), 0.1 * np.ones(1))  # no rlkit key sets it
    try:
        runner.train()
    finally:
        runner.close()
    ours = runner.agent.model
    assert ours.action_noise is not None and ours._n_updates == ref._n_updates > 0
    for key, value in ref.policy.state_dict().items():
        assert torch.equal(value, ours.policy.state_dict()[key]), key
