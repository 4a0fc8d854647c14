"""DQN: the math by hand, config errors, every switch on a tiny deterministic task, checkpoints, a CLI run."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlkit.agents.dqn import (
    DQNAgent,
    DQNConfig,
    double_next_value,
    max_next_value,
    polyak_update,
    td_loss,
    td_target,
)
from rlkit.agents.dqn_heads import dueling_combine
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.errors import IncompatibleError, UserError
from rlkit.core.types import AgentContext, Transition
from tests.conftest import train_in_process


# ----- the math, against hand-computed numbers --------------------------------------------------------------
def test_td_target_by_hand():
    reward = torch.tensor([1.0, 0.5, -1.0])
    discount = torch.tensor([0.99, 0.99**3, 0.0])  # 1-step, 3-step, terminated
    next_value = torch.tensor([2.0, 4.0, 100.0])
    expected = [1.0 + 0.99 * 2.0, 0.5 + 0.970299 * 4.0, -1.0]
    assert td_target(reward, discount, next_value).tolist() == pytest.approx(expected)


def test_max_and_double_next_values_by_hand():
    online = torch.tensor([[1.0, 3.0, 2.0], [5.0, 0.0, 1.0]])
    target = torch.tensor([[10.0, 20.0, 30.0], [7.0, 8.0, 9.0]])
    assert max_next_value(target).tolist() == [30.0, 9.0]
    # online picks a'=1 in row 0 and a'=0 in row 1; the target net values them
    assert double_next_value(online, target).tolist() == [20.0, 7.0]


def test_dueling_combine_subtracts_mean_advantage():
    value = torch.tensor([[1.0]])
    advantage = torch.tensor([[1.0, 2.0, 3.0]])  # mean 2
    assert dueling_combine(value, advantage).tolist() == [[0.0, 1.0, 2.0]]


def test_td_loss_huber_and_mse_by_hand():
    q, target = torch.tensor([0.0, 0.0]), torch.tensor([0.5, 3.0])
    weights = torch.tensor([1.0, 0.5])
    # huber: 0.5 * 0.5^2 = 0.125 ; |3| - 0.5 = 2.5 (x0.5 = 1.25) -> mean 0.6875
    assert td_loss(q, target, weights, "huber").item() == pytest.approx(0.6875)
    # mse: 0.25 ; 9 (x0.5 = 4.5) -> mean 2.375
    assert td_loss(q, target, weights, "mse").item() == pytest.approx(2.375)


def test_polyak_update_hard_and_soft():
    online, target = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    with torch.no_grad():
        online.weight.fill_(2.0), online.bias.fill_(4.0), target.weight.fill_(0.0), target.bias.fill_(0.0)
    polyak_update(target, online, 0.25)
    assert (target.weight.item(), target.bias.item()) == pytest.approx((0.5, 1.0))
    polyak_update(target, online, 1.0)
    assert (target.weight.item(), target.bias.item()) == (2.0, 4.0)


# ----- a tiny deterministic task ---------------------------------------------------------------------------
class Chain(gym.Env):
    """States 0..3 on a line (one-hot); action 1 moves right, 0 left; reaching 3 pays 1 and ends."""

    observation_space = gym.spaces.Box(0.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s, self.t = 0, 0
        return np.eye(4, dtype=np.float32)[0], {}

    def step(self, action):
        self.s, self.t = max(0, self.s + (1 if action == 1 else -1)), self.t + 1
        return np.eye(4, dtype=np.float32)[self.s], float(self.s == 3), self.s == 3, self.t >= 12, {}


def tiny_cfg(**overrides) -> DQNConfig:
    base = dict(
        hidden=[32], lr=1e-2, gamma=0.9, batch_size=32, buffer_size=2_000, learning_starts=64, train_freq=1,
        target_update_every=25, epsilon_decay_steps=300, epsilon_final=0.1, max_grad_norm=10.0,
    )  # fmt: skip
    return DQNConfig(**{**base, **overrides})


def make_agent(cfg: DQNConfig, num_envs: int = 2, seed: int = 0) -> DQNAgent:
    ctx = AgentContext(
        Chain.observation_space, Chain.action_space, num_envs=num_envs, seed=seed, agent_name="dqn"
    )
    return DQNAgent(cfg, ctx)


def run_chain(agent: DQNAgent, steps: int, num_envs: int = 2) -> None:
    """The runner's loop in miniature: act for all envs, step, observe, update (same-step autoreset)."""
    envs = [Chain() for _ in range(num_envs)]
    obs = np.stack([e.reset(seed=i)[0] for i, e in enumerate(envs)])
    for _ in range(steps // num_envs):
        actions = agent.act(obs)
        out = [e.step(a) for e, a in zip(envs, actions.tolist())]
        next_obs = np.stack([o[0] for o in out])
        term, trunc = np.array([o[2] for o in out]), np.array([o[3] for o in out])
        agent.observe(Transition(obs, actions, np.array([o[1] for o in out]), next_obs, term, trunc, []))
        agent.update()
        obs = np.stack([e.reset()[0] if te or tr else o for e, o, te, tr in zip(envs, next_obs, term, trunc)])


SWITCHES = {
    "plain": {},
    "double": {"double": True},
    "dueling": {"dueling": True},
    "n_step": {"n_step": 3},
    "prioritized": {"prioritized": True, "priority_beta_steps": 500},
    "polyak_mse_rmsprop": {
        "tau": 0.1,
        "target_update_every": 1,
        "loss": "mse",
        "optimizer": "rmsprop",
        "lr": 3e-3,
    },
    "bf16": {"precision": "bf16"},
    "fp16": {"precision": "fp16"},
}


@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_learns_the_chain_with_each_switch(switch, monkeypatch):
    monkeypatch.setattr("rlkit.agents.dqn.bf16_supported", lambda device: True)  # exercise bf16 everywhere
    torch.manual_seed(0)
    agent = make_agent(tiny_cfg(**SWITCHES[switch]))
    run_chain(agent, 900)
    assert agent.updates > 500
    obs = np.eye(4, dtype=np.float32)[:3]
    assert agent.act(obs, explore=False).tolist() == [1, 1, 1]  # always move right
    with torch.no_grad():
        q_right = agent.q(torch.as_tensor(obs))[:, 1].tolist()
    assert q_right == pytest.approx([0.81, 0.9, 1.0], abs=0.2)  # gamma^2, gamma, 1
    metrics = agent.update()
    assert {"epsilon", "loss", "q_mean"} <= set(metrics)
    assert metrics["epsilon"] == pytest.approx(0.1)


def test_schedule_counts_env_steps_over_all_envs():
    agent = make_agent(
        tiny_cfg(learning_starts=8, train_freq=4, gradient_steps=2, epsilon_decay_steps=100, batch_size=4), 4
    )
    run_chain(agent, 16, num_envs=4)  # 16 env steps: rounds due at 8, 12, 16 -> 3 rounds x 2 steps
    assert agent.steps == 16 and agent.updates == 6
    assert agent.epsilon == pytest.approx(1.0 + (0.1 - 1.0) * 16 / 100)


def test_act_explores_and_greedy_is_deterministic():
    agent = make_agent(tiny_cfg(epsilon_start=1.0), num_envs=1)
    obs = np.tile(np.eye(4, dtype=np.float32)[:1], (500, 1))
    assert set(agent.act(obs).tolist()) == {0, 1}
    greedy = agent.act(obs, explore=False)
    assert len(set(greedy.tolist())) == 1 and greedy.shape == (500,)


def test_greedy_evaluation_does_not_change_the_exploration_stream():
    """An evaluation between two training steps must not shift which actions training explores with."""
    obs = np.tile(np.eye(4, dtype=np.float32)[:1], (64, 1))
    plain, evaluated = make_agent(tiny_cfg(), num_envs=1), make_agent(tiny_cfg(), num_envs=1)
    for _ in range(5):
        evaluated.act(obs[:1], explore=False)
    assert plain.act(obs).tolist() == evaluated.act(obs).tolist()


def test_bf16_falls_back_to_fp32_without_hardware_support(monkeypatch):
    monkeypatch.setattr("rlkit.agents.dqn.bf16_supported", lambda device: False)
    with pytest.warns(UserWarning, match="no native bf16"):
        agent = make_agent(tiny_cfg(precision="bf16"))
    assert agent.precision == "fp32"


# ----- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("loss", "l1"),
        ("optimizer", "sgd"),
        ("precision", "fp8"),
        ("n_step", 0),
        ("tau", 0.0),
        ("network", "vit"),
    ],
)
def test_bad_values_name_the_key(key, value):
    with pytest.raises(UserError, match=f"agent.{key}="):
        DQNConfig(**{key: value}).validate()


def test_continuous_actions_are_refused():
    ctx = AgentContext(Chain.observation_space, gym.spaces.Box(-1, 1, (1,)), env_name="Pendulum-v1")
    with pytest.raises(IncompatibleError, match="Discrete action space"):
        DQNAgent(tiny_cfg(), ctx)


# ----- checkpoints -----------------------------------------------------------------------------------------
def roundtrip(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


@pytest.mark.parametrize("save_replay", [False, True])
def test_checkpoint_restores_networks_optimizer_counters_and_rng(save_replay):
    agent = make_agent(tiny_cfg(save_replay=save_replay))
    run_chain(agent, 200)
    state = roundtrip(agent.state_dict())
    assert ("replay" in state) == save_replay
    twin = make_agent(tiny_cfg(save_replay=save_replay), seed=99)
    twin.load_state_dict(state)
    assert (twin.steps, twin.updates) == (agent.steps, agent.updates)
    for a, b in zip(agent.q.parameters(), twin.q.parameters()):
        assert torch.equal(a, b)
    obs = np.eye(4, dtype=np.float32)[np.arange(64) % 4]
    assert agent.act(obs).tolist() == twin.act(obs).tolist()  # same RNG stream from here on
    if save_replay:
        assert len(twin.buffer) == len(agent.buffer)


def test_resuming_without_the_replay_buffer_refills_it_before_learning():
    agent = make_agent(tiny_cfg())  # learning_starts 64, batch 32, train every env step
    run_chain(agent, 200)
    twin = make_agent(tiny_cfg(), seed=99)
    twin.load_state_dict(roundtrip(agent.state_dict()))
    updates = twin.updates
    run_chain(twin, 60)  # 60 < learning_starts new transitions: no update on a near-empty buffer
    assert twin.updates == updates and len(twin.buffer) == 60
    run_chain(twin, 20)
    assert twin.updates > updates


# ----- through the CLI path --------------------------------------------------------------------------------
def test_cartpole_run_through_the_runner(run_dir):
    summary = train_in_process(
        run_dir, "agent=dqn", "env=CartPole-v1", "total_steps=400", "agent.learning_starts=200",
        "agent.buffer_size=500", "num_threads=1", "eval.every=0", "eval.episodes=2", "num_envs=2",
    )  # fmt: skip
    assert summary["steps"] == 400 and summary["final_eval"]["episodes"] == 2
    metrics = (run_dir / "metrics.jsonl").read_text()
    assert "train/loss" in metrics and "train/q_mean" in metrics and "train/epsilon" in metrics
    state = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert state["agent"]["steps"] == 400 and "target" in state["agent"]


def test_cartpole_preset_composes():
    from rlkit.frontend.compose import compose_config

    cfg = compose_config(["+experiment=dqn_cartpole"])
    assert (cfg.agent.name, cfg.env.id, cfg.agent.train_freq, cfg.agent.gradient_steps) == (
        "dqn", "CartPole-v1", 256, 128
    )  # fmt: skip


def test_a_run_too_short_to_learn_warns_on_one_line(tmp_path, monkeypatch, capsys) -> None:
    from rlkit.frontend.cli import main

    monkeypatch.chdir(tmp_path)
    args = ["train", "agent=dqn", "env=CartPole-v1", "total_steps=300", "ui=none", "eval.episodes=1"]
    assert main([*args, "num_threads=1", f"hydra.run.dir={tmp_path / 'run'}"]) == 0
    err = capsys.readouterr().err
    assert "rlkit: warning: agent.learning_starts=80000 >= total_steps=300: DQN will never learn" in err
    assert "+experiment=dqn_cartpole" in err
