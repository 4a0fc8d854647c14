"""Issue 13 (agents): constructors leave global state alone; run-level num_threads; check_ranges; Config."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from rlkit.core.errors import UserError, check_ranges
from rlkit.core.types import AgentContext
from rlkit.envs.factory import make_env
from rlkit.frontend.cli import main
from rlkit.frontend.compose import compose_config
from rlkit.frontend.schemas import agent_config
from tests.conftest import train_in_process

pytestmark = pytest.mark.filterwarnings("ignore:RL Zoo tuned", "ignore:agent.learning_starts")

AGENT_RUNS = {
    "q_learning": ["agent=q_learning", "env=maze"],
    "dqn": ["+experiment=dqn_cartpole"],
    "reinforce": ["agent=reinforce", "env=CartPole-v1"],
    "mnist_cnn": ["agent=mnist_cnn", "env=digits", "agent.hidden=16"],  # dropout 0.5
    "char_rnn": ["agent=char_rnn", "env=char_text", "agent.hidden=16"],  # dropout 0.5
    "word2vec": ["agent=word2vec", "env=word2vec", "agent.embedding_size=8"],
    "sb3_ppo": ["agent=sb3_ppo", "env=CartPole-v1", "num_envs=2"],
    "sb3_dqn": ["agent=sb3_dqn", "env=CartPole-v1"],
}


def make_agent(overrides: list[str], seed: int = 0):
    """The agent class of `rlkit train <overrides>` built directly from its config (no front end)."""
    cfg = compose_config(["device=cpu", f"seed={seed}", *overrides])
    env = make_env(cfg.env)
    try:
        ctx = AgentContext(
            env.observation_space, env.action_space, cfg.num_envs, seed, "cpu", cfg.agent.name,
            cfg.env.name, cfg.env.id, 10_000,
        )  # fmt: skip
        sample = env.observation_space.sample()
    finally:
        env.close()
    agent_cls, agent_cfg = agent_config(cfg.agent)  # the class its YAML's _target_ names
    return agent_cls(agent_cfg, ctx), sample


def global_state() -> tuple:
    return (
        torch.initial_seed(), torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate(),
        torch.get_num_threads(),
    )  # fmt: skip


@pytest.mark.parametrize("name", sorted(AGENT_RUNS))
def test_building_an_agent_leaves_global_rngs_and_threads_alone(name: str) -> None:
    torch.manual_seed(1234)
    np.random.seed(99)
    random.seed(7)
    before = global_state()
    make_agent([*AGENT_RUNS[name], "num_threads=1"], seed=0)
    after = global_state()
    assert before[0] == after[0]  # torch.initial_seed
    assert torch.equal(before[1], after[1])  # torch's CPU generator
    assert np.array_equal(before[2], after[2]) and before[3] == after[3]  # NumPy's and Python's
    assert before[4] == after[4]  # torch.get_num_threads


def _first_outputs(agent, obs: np.ndarray) -> np.ndarray:
    """Training-mode outputs of three act() calls on the same batch (dropout / policy sampling draws)."""
    batch = np.stack([obs] * agent.num_envs if hasattr(agent, "num_envs") else [obs])
    return np.stack([np.asarray(agent.act(batch, explore=True), dtype=np.float64) for _ in range(3)])


@pytest.mark.parametrize("name", ["mnist_cnn", "char_rnn", "sb3_ppo"])
def test_same_seed_same_draws_whatever_else_draws_from_the_global_rngs(name: str) -> None:
    a, obs = make_agent(AGENT_RUNS[name])
    b, _ = make_agent(AGENT_RUNS[name])
    torch.rand(11), np.random.rand(3), random.random()
    out_a = _first_outputs(a, obs)
    torch.rand(5), np.random.rand(7), random.random()
    out_b = _first_outputs(b, obs)
    assert np.array_equal(out_a, out_b)
    assert not np.array_equal(out_a[0], out_a[1]) or name == "sb3_ppo"  # dropout really draws


def test_same_seed_same_first_dqn_update_whatever_else_draws(tmp_path: Path) -> None:
    fast = [
        "+experiment=dqn_cartpole",
        "total_steps=300",
        "agent.learning_starts=100",
        "agent.train_freq=50",
        "agent.gradient_steps=2",
        "eval.every=0",
        "eval.episodes=1",
        "checkpoint.every=0",
    ]
    train_in_process(tmp_path / "a", *fast)
    torch.rand(100), np.random.rand(100)
    train_in_process(tmp_path / "b", *fast)
    assert (tmp_path / "a/metrics.jsonl").read_bytes() == (tmp_path / "b/metrics.jsonl").read_bytes()


# ----- one run-level num_threads ----------------------------------------------------------------------------
def test_num_threads_is_a_run_level_key_set_once_by_the_front_end(tmp_path: Path) -> None:
    torch.set_num_threads(2)
    train_in_process(tmp_path / "run", "total_episodes=2", "num_threads=1", "eval.episodes=1")
    assert torch.get_num_threads() == 1  # (conftest puts the count back after the test)


def test_old_agent_num_threads_fails_in_one_line_naming_num_threads(capsys, tmp_path: Path) -> None:
    code = main(["train", "agent=reinforce", "env=CartPole-v1", "agent.num_threads=1",
                 f"hydra.run.dir={tmp_path / 'run'}"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "agent.num_threads=" in err and "use num_threads=1" in err
    assert not (tmp_path / "run").exists()


def test_num_threads_zero_is_refused() -> None:
    from rlkit.frontend.app import validate

    with pytest.raises(UserError, match=r"^num_threads=0 is invalid: it must be >= 1 or null$"):
        validate(compose_config(["num_threads=0"]))


def test_a_run_saved_with_agent_num_threads_still_loads(tmp_path: Path) -> None:
    from rlkit.frontend.runs import load_run

    run = tmp_path / "run"
    assert main(["train", "total_episodes=2", "eval.episodes=1", "ui=none", f"hydra.run.dir={run}"]) == 0
    config = yaml.safe_load((run / ".hydra/config.yaml").read_text())
    config["agent"]["num_threads"] = 1  # what an older rlkit wrote
    del config["num_threads"]
    (run / ".hydra/config.yaml").write_text(yaml.safe_dump(config))
    overrides = yaml.safe_load((run / ".hydra/overrides.yaml").read_text())
    (run / ".hydra/overrides.yaml").write_text(yaml.safe_dump([*overrides, "agent.num_threads=1"]))
    loaded = load_run(run)
    assert loaded.cfg.num_threads == 1 and "num_threads" not in loaded.cfg.agent


# ----- check_ranges and Config ----------------------------------------------------------------------------
def test_check_ranges_raises_the_first_failed_check_in_one_line() -> None:
    checks = [("lr", True, "> 0"), ("gamma", False, "in [0, 1]"), ("hidden", False, ">= 1")]
    with pytest.raises(UserError, match=r"^agent\.gamma=1\.5 is invalid: it must be in \[0, 1\]$"):
        check_ranges("agent.", checks, lambda key: {"gamma": "1.5"}.get(key, "?"))
    check_ranges("", [("num_envs", True, ">= 1")], str)  # all fine: no error


def test_agent_config_messages_are_unchanged() -> None:
    from rlkit.agents.dqn import DQNConfig
    from rlkit.agents.tabular import TabularConfig

    with pytest.raises(UserError, match=r"^agent\.lr=0\.0 is invalid: it must be > 0$"):
        DQNConfig(lr=0.0).validate()
    with pytest.raises(UserError, match=r"^agent\.loss='l1' is invalid: it must be one of huber, mse$"):
        DQNConfig(loss="l1").validate()
    with pytest.raises(UserError, match=r"^agent\.gamma=2\.0 is invalid: it must be in \[0, 1\]$"):
        TabularConfig(gamma=2.0).validate()


def test_every_agent_class_names_its_config() -> None:
    from rlkit.agents.char_rnn import CharRNNAgent, CharRNNConfig
    from rlkit.agents.dqn import DQNAgent, DQNConfig
    from rlkit.agents.reinforce import ReinforceAgent, ReinforceConfig
    from rlkit.agents.sb3 import SB3Agent, SB3AgentBase, SB3Config, sb3_agent
    from rlkit.agents.supervised import SupervisedAgent, SupervisedConfig
    from rlkit.agents.tabular import TabularAgent, TabularConfig
    from rlkit.agents.word2vec import Word2VecAgent, Word2VecConfig

    pairs = [(DQNAgent, DQNConfig), (TabularAgent, TabularConfig), (ReinforceAgent, ReinforceConfig),
             (SupervisedAgent, SupervisedConfig), (CharRNNAgent, CharRNNConfig),
             (Word2VecAgent, Word2VecConfig), (SB3Agent, SB3Config)]  # fmt: skip
    assert all(agent.Config is config for agent, config in pairs)
    assert sb3_agent is SB3Agent and isinstance(make_agent(AGENT_RUNS["sb3_ppo"])[0], SB3AgentBase)
