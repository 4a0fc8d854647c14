"""REINFORCE: returns by hand, learning on tiny bandits, batches over envs, CartPole, the book's preset."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from rlkit.agents.reinforce import (
    Episode,
    ReinforceAgent,
    ReinforceConfig,
    discounted_returns,
    normalize_returns,
    policy_gradient_loss,
    sample_categorical,
)
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.errors import IncompatibleError, UserError
from rlkit.core.types import AgentContext, Transition
from rlkit.frontend.app import build_runner
from rlkit.frontend.compose import compose_config
from tests.conftest import train_in_process, trained_runner

pytestmark = pytest.mark.filterwarnings("ignore:.*CartPole-v0 is out of date:DeprecationWarning")
VEC1 = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny networks: a second intra-op thread only spins on a shared 2-core machine (10-30x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_agent(action_space: gym.Space | None = None, obs_space: gym.Space = VEC1, num_envs: int = 1, **kw):
    action_space = action_space or gym.spaces.Discrete(2)
    ctx = AgentContext(
        obs_space, action_space, num_envs=num_envs, seed=0, agent_name="reinforce", env_name="t"
    )
    return ReinforceAgent(ReinforceConfig(**kw), ctx)


def step(obs, action, reward, terminated, truncated=None, next_obs=None) -> Transition:
    obs = np.asarray(obs, np.float32)
    n = len(obs)
    truncated = np.zeros(n, bool) if truncated is None else np.asarray(truncated)
    next_obs = obs if next_obs is None else np.asarray(next_obs, np.float32)
    return Transition(
        obs, np.asarray(action), np.asarray(reward, float), next_obs, np.asarray(terminated), truncated
    )


# ----- the maths by hand ------------------------------------------------------------------------------------
def test_discounted_returns_by_hand() -> None:
    assert discounted_returns(np.array([1.0, 1.0, 1.0]), 0.5) == pytest.approx([1.75, 1.5, 1.0])
    assert discounted_returns(np.array([0.0, 0.0, 2.0]), 0.9) == pytest.approx([1.62, 1.8, 2.0])
    # a truncated episode: the value of the unplayed tail (4) enters discounted once per step
    assert discounted_returns(np.array([1.0, 1.0, 1.0]), 0.5, bootstrap=4.0) == pytest.approx(
        [2.25, 2.5, 3.0]
    )
    assert discounted_returns(np.array([]), 0.9).shape == (0,)


def test_normalize_returns_divides_by_std_not_floor() -> None:
    x = np.array([1.0, 2.0, 3.0])
    std = math.sqrt(2.0 / 3.0)
    assert normalize_returns(x) == pytest.approx([-1 / std, 0.0, 1 / std], rel=1e-6)
    assert (x - x.mean()) // x.std() == pytest.approx([-2.0, 0.0, 1.0])  # the book's `//=`: what we do not do
    assert normalize_returns(np.array([5.0, 5.0])) == pytest.approx([0.0, 0.0])  # std 0: no division by zero


def test_policy_gradient_loss_by_hand() -> None:
    log_probs = torch.log(torch.tensor([0.5, 0.25]))
    advantages = torch.tensor([1.0, -2.0])
    expected = -(1.0 * math.log(0.5) - 2.0 * math.log(0.25)) / 2
    assert float(policy_gradient_loss(log_probs, advantages)) == pytest.approx(expected)
    assert float(policy_gradient_loss(log_probs, advantages, total=4)) == pytest.approx(expected / 2)


def test_sample_categorical_by_hand() -> None:
    logits = torch.log(torch.tensor([[0.2, 0.5, 0.3]]))
    u = torch.tensor([0.1, 0.3, 0.69, 0.75, 1.0])  # cumulative probabilities: 0.2, 0.7, 1.0
    assert sample_categorical(logits.expand(5, 3), u).tolist() == [0, 1, 1, 2, 2]
    draws = sample_categorical(
        logits.expand(20000, 3), torch.rand(20000, generator=torch.Generator().manual_seed(0))
    )
    assert np.bincount(draws.numpy(), minlength=3) / 20000 == pytest.approx([0.2, 0.5, 0.3], abs=0.015)


# ----- it learns on tiny tasks ------------------------------------------------------------------------------
def probs(agent: ReinforceAgent) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(agent.policy(torch.zeros(1, 1)), -1)[0].numpy()


def test_bandit_update_moves_probability_to_the_better_arm() -> None:
    agent = make_agent(lr=0.01, batch_episodes=10, baseline=False)
    history = [probs(agent)[1]]
    for _ in range(8):  # one-step episodes: arm 1 pays 1, arm 0 pays 0
        for _ in range(10):
            action = agent.act(np.zeros((1, 1), np.float32))
            agent.observe(step([[0.0]], action, [float(action[0] == 1)], [True]))
        assert agent.update()["updates"] == len(history)
        history.append(probs(agent)[1])
    assert abs(history[0] - 0.5) < 0.1 and history[-1] > 0.95
    assert all(b > a for a, b in zip(history, history[1:]))  # every update moves mass to the better arm
    assert agent.act(np.zeros((1, 1), np.float32), explore=False)[0] == 1  # greedy picks the better arm


def test_gaussian_mean_moves_toward_the_best_action() -> None:
    space = gym.spaces.Box(-5.0, 5.0, (1,), np.float32)
    agent = make_agent(space, lr=0.05, batch_episodes=16, baseline=False)
    greedy = lambda: float(agent.act(np.zeros((1, 1), np.float32), explore=False)[0, 0])  # noqa: E731
    start = greedy()
    for _ in range(150):  # one-step episodes with reward -(a - 2)^2
        for _ in range(16):
            a = agent.act(np.zeros((1, 1), np.float32))
            agent.observe(step([[0.0]], a, [-float((a[0, 0] - 2.0) ** 2)], [True]))
        agent.update()
    assert abs(start) < 0.5 and abs(greedy() - 2.0) < 0.5


# ----- batches of whole episodes over several envs ----------------------------------------------------------
def test_batches_collect_whole_episodes_that_end_at_different_times() -> None:
    agent = make_agent(num_envs=2, batch_episodes=2, baseline=False)
    obs, act = [[0.0], [0.0]], np.array([0, 1])
    agent.observe(step(obs, act, [1.0, 10.0], [False, False]))
    assert agent.update() == {}
    agent.observe(step(obs, act, [1.0, 10.0], [True, False]))  # env 0 ends after 2 steps
    assert agent.update() == {}
    agent.observe(step(obs, act, [1.0, 10.0], [False, True]))  # env 1 ends after 3 steps, env 0 goes on
    metrics = agent.update()
    assert metrics["return_mean"] == pytest.approx((2.0 + 30.0) / 2) and metrics["length_mean"] == 2.5
    assert agent.update() == {}  # env 0's new episode (1 step so far) waits for the next batch


def test_baseline_bootstraps_truncated_episodes_only() -> None:
    agent = make_agent(batch_episodes=2, baseline=True, gamma=0.5, normalize_returns="none")
    last = [m for m in agent.value.modules() if isinstance(m, nn.Linear)][-1]
    nn.init.zeros_(last.weight), nn.init.constant_(last.bias, 4.0)  # V(s) = 4 everywhere
    z = np.zeros((2, 1), np.float32)
    cut = Episode(z, np.zeros(2, np.int64), np.array([1.0, 1.0]), True, np.zeros(1, np.float32))
    ended = cut._replace(truncated=False)
    returns, adv = agent._targets([cut, ended])
    assert returns == pytest.approx([1 + 0.5 * (1 + 0.5 * 4), 1 + 0.5 * 4, 1.5, 1.0])
    assert adv == pytest.approx(returns - 4.0)


# ----- through the runner -----------------------------------------------------------------------------------
def test_cartpole_v0_reaches_195_and_stops(run_dir) -> None:
    summary = train_in_process(
        run_dir, "agent=reinforce", "env=CartPole-v0", "num_envs=8", "agent.lr=0.01", "seed=1",
        "total_steps=60000", "stop.return_mean=195", "stop.window=20", "eval.every=0",
    )  # fmt: skip
    assert summary["stopped_early"] and summary["steps"] < 60000
    assert summary["final_eval"]["return_mean"] >= 195


def test_book_preset_reproduces_the_books_network_and_batch(run_dir) -> None:
    cfg = compose_config(["+experiment=reinforce_cartpole_book"])
    assert cfg.env.id == "CartPole-v0" and cfg.stop.return_mean == 200 and cfg.stop.window == 5
    a = cfg.agent
    assert (a.lr, a.gamma, a.batch_episodes, a.normalize_returns) == (0.01, 0.99, 5, "episode")
    runner = trained_runner(
        run_dir, "+experiment=reinforce_cartpole_book", "total_episodes=10", "eval.episodes=1"
    )
    linears = [m for m in runner.agent.policy.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features, m.bias) for m in linears] == [(4, 10, None), (10, 2, None)]
    assert runner.agent.updates == 2 and runner.counters.episodes == 10


def test_pendulum_smoke_run_with_a_gaussian_policy(run_dir) -> None:
    summary = train_in_process(
        run_dir, "agent=reinforce", "env=Pendulum-v1", "total_steps=1000", "eval.episodes=1"
    )
    assert summary["steps"] == 1000 and np.isfinite(summary["final_eval"]["return_mean"])


def test_checkpoint_loads_weights_only_and_restores_the_agent(run_dir) -> None:
    runner = trained_runner(
        run_dir, "agent=reinforce", "env=CartPole-v1", "total_steps=600", "eval.episodes=1"
    )
    state = load_checkpoint(run_dir / "checkpoints" / "latest.pt")["agent"]  # torch.load(weights_only=True)
    fresh = build_runner(
        compose_config(["agent=reinforce", "env=CartPole-v1", "seed=5"]), run_dir / "b"
    ).agent
    fresh.load_state_dict(state)
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    assert (fresh.act(obs, explore=False) == runner.agent.act(obs, explore=False)).all()
    assert (fresh.act(obs) == runner.agent.act(obs)).all()  # the sampling RNG continues where it stopped
    assert fresh.updates == runner.agent.updates > 0


# ----- pixels and mistakes ----------------------------------------------------------------------------------
def test_pixel_observations_use_a_cnn_and_learn() -> None:
    pixels = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    agent = make_agent(gym.spaces.Discrete(3), pixels, num_envs=2, batch_episodes=1, network="nips")
    assert any(isinstance(m, nn.Conv2d) for m in agent.policy.modules())
    obs = np.random.default_rng(0).integers(0, 255, (2, 4, 84, 84), dtype=np.uint8)
    a = agent.act(obs)
    agent.observe(Transition(obs, a, np.ones(2), obs, np.array([True, False]), np.zeros(2, bool)))
    metrics = agent.update()
    assert (
        set(a.tolist()) <= {0, 1, 2} and np.isfinite(metrics["loss"]) and np.isfinite(metrics["value_loss"])
    )


def test_mistakes_name_the_key_or_the_spaces() -> None:
    with pytest.raises(UserError, match="agent.normalize_returns='floor'.*none, episode, batch"):
        make_agent(normalize_returns="floor")
    with pytest.raises(UserError, match="agent.batch_episodes"):
        make_agent(batch_episodes=0)
    with pytest.raises(IncompatibleError, match="action space MultiDiscrete"):
        make_agent(gym.spaces.MultiDiscrete([2, 2]))
    with pytest.raises(IncompatibleError, match="observation space Discrete"):
        make_agent(obs_space=gym.spaces.Discrete(4))
