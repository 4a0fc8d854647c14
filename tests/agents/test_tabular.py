"""Tabular agents: TD maths by hand, acting rules, checkpoints, and what they learn on the book's mazes."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlkit.agents.tabular import TabularAgent, TabularConfig, epsilon_greedy_probs, td_target
from rlkit.core.errors import IncompatibleError, UserError
from rlkit.core.types import AgentContext, Transition


def make_agent(name: str = "q_learning", n_states: int = 4, n_actions: int = 2, **kw) -> TabularAgent:
    ctx = AgentContext(gym.spaces.Discrete(n_states), gym.spaces.Discrete(n_actions), seed=0)
    return TabularAgent(TabularConfig(name=name, **kw), ctx)


def batch(s, a, r, s2, terminated=False, truncated=False) -> Transition:
    return Transition(
        np.array([s]), np.array([a]), np.array([r], float), np.array([s2]),
        np.array([terminated]), np.array([truncated]),
    )  # fmt: skip


def test_td_target_by_hand() -> None:
    assert td_target(1.0, False, 0.9, 10.0) == pytest.approx(10.0)
    assert td_target(1.0, True, 0.9, 10.0) == 1.0  # no bootstrap from a terminal state


def test_epsilon_greedy_probs_share_ties() -> None:
    assert epsilon_greedy_probs([1.0, 3.0, 3.0, 0.0], 0.2) == pytest.approx([0.05, 0.45, 0.45, 0.05])


def test_q_learning_update_by_hand() -> None:
    agent = make_agent(alpha=0.5, gamma=0.9)
    agent.q[1] = [2.0, 4.0]
    agent.observe(batch(0, 1, 1.0, 1))
    agent.update()
    assert agent.q[0, 1] == pytest.approx(0.5 * (1.0 + 0.9 * 4.0))  # (1-a)*0 + a*(r + g*max Q(s'))
    agent.observe(batch(0, 0, 1.0, 1, terminated=True))
    agent.update()
    assert agent.q[0, 0] == pytest.approx(0.5)  # terminal: target is r alone
    agent.observe(batch(0, 0, 1.0, 1, truncated=True))
    agent.update()
    assert agent.q[0, 0] == pytest.approx(0.5 + 0.5 * (1.0 + 3.6 - 0.5))  # truncation still bootstraps


def test_sarsa_bootstraps_from_the_action_it_then_plays() -> None:
    agent = make_agent("sarsa", alpha=1.0, gamma=0.5, epsilon=0.0)
    agent.q[1] = [2.0, 6.0]  # greedy a' in state 1 is action 1
    agent.observe(batch(0, 0, 0.0, 1))
    agent.update()
    assert agent.q[0, 0] == pytest.approx(3.0)  # 0 + 0.5 * Q(1, a'=1)
    agent.q[1] = [9.0, 0.0]  # greedy would now pick 0, but SARSA plays the a' it already used
    assert agent.act(np.array([1]))[0] == 1
    assert agent.act(np.array([1]))[0] == 0  # the cached action is used once


def test_expected_sarsa_target_by_hand() -> None:
    agent = make_agent("expected_sarsa", alpha=1.0, gamma=1.0, epsilon=0.5)
    agent.q[1] = [0.0, 4.0]
    agent.observe(batch(0, 0, 0.0, 1))
    agent.update()
    assert agent.q[0, 0] == pytest.approx(0.25 * 0.0 + 0.75 * 4.0)


def test_greedy_ties_broken_at_random_and_exploration_rate() -> None:
    agent = make_agent(n_actions=4, epsilon=0.0)
    agent.q[0] = [1.0, 5.0, 5.0, 0.0]
    picks = [int(agent.act(np.array([0]))[0]) for _ in range(400)]
    assert set(picks) == {1, 2} and 120 < picks.count(1) < 280
    agent.cfg.epsilon = 1.0
    picks = [int(agent.act(np.array([0]))[0]) for _ in range(400)]
    assert set(picks) == {0, 1, 2, 3}
    assert all(agent.act(np.array([0]), explore=False)[0] in (1, 2) for _ in range(20))


def test_epsilon_decays_linearly_with_env_steps() -> None:
    agent = make_agent(epsilon=1.0, epsilon_final=0.1, epsilon_decay_steps=10)
    assert agent.epsilon == 1.0
    for _ in range(5):
        agent.observe(batch(0, 0, 0.0, 1))
    assert agent.epsilon == pytest.approx(0.55)
    for _ in range(10):
        agent.observe(batch(0, 0, 0.0, 1))
    assert agent.epsilon == pytest.approx(0.1)


def test_batched_envs_each_get_an_update() -> None:
    agent = make_agent(alpha=1.0, gamma=0.0)
    two = Transition(
        np.array([0, 0]), np.array([1, 1]), np.array([1.0, 3.0]), np.array([1, 1]),
        np.array([False, False]), np.array([False, False]),
    )  # fmt: skip
    agent.observe(two)
    agent.update()
    assert agent.q[0, 1] == 3.0  # applied in env order, neither update lost
    assert agent.act(np.array([0, 1, 2])).shape == (3,)


def test_state_dict_round_trip_is_torch_weights_only(tmp_path) -> None:
    agent = make_agent("sarsa")
    agent.q[:] = np.arange(8).reshape(4, 2)
    agent.observe(batch(0, 1, 1.0, 2))
    agent.update()
    torch.save(agent.state_dict(), tmp_path / "a.pt")
    other = make_agent("sarsa")
    other.load_state_dict(torch.load(tmp_path / "a.pt", weights_only=True))
    assert np.array_equal(other.q, agent.q) and other.steps == agent.steps
    assert [other.act(np.array([2]))[0] for _ in range(5)] == [agent.act(np.array([2]))[0] for _ in range(5)]
    with pytest.raises(UserError, match="shape"):
        make_agent(n_states=5).load_state_dict(agent.state_dict())


def test_bad_hyperparameters_name_the_key() -> None:
    with pytest.raises(UserError, match=r"agent\.alpha=0\.0 .*\(0, 1\]"):
        make_agent(alpha=0.0)
    with pytest.raises(UserError, match="agent.epsilon"):
        make_agent(epsilon=1.5)


def test_incompatible_spaces_are_named() -> None:
    box = gym.spaces.Box(0, 255, (84, 84, 4), np.uint8)
    ctx = AgentContext(box, gym.spaces.Discrete(4), agent_name="q_learning", env_name="Pixels")
    with pytest.raises(
        IncompatibleError, match=r"Discrete observation.*'Pixels'.*Box\(0, 255, \(84, 84, 4\)"
    ):
        TabularAgent(TabularConfig(), ctx)
