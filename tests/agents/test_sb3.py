"""Stable-Baselines3 algorithms under rlkit's runner: parity with SB3's own learn(), errors, Zoo defaults."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rlkit.agents.sb3 import SB3Config, sb3_agent
from rlkit.agents.sb3_model import algorithms, choose_policy
from rlkit.agents.sb3_offpolicy import timeout_infos
from rlkit.agents.sb3_onpolicy import bootstrap_truncated
from rlkit.agents.sb3_zoo import (
    decode_value,
    linear_schedule,
    merge_hyperparams,
    parse_python_dict,
    zoo_hyperparams,
    zoo_key,
    zoo_run_settings,
)
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.errors import IncompatibleError, UserError
from rlkit.core.types import AgentContext, Transition
from tests.conftest import train_in_process, trained_runner

FAST = ("num_threads=1", "device=cpu", "ui=none")
pytestmark = pytest.mark.filterwarnings("ignore:RL Zoo tuned")  # tiny runs use fewer envs than the Zoo


# ----- pure pieces against hand numbers -------------------------------------------------------------------
def test_truncated_rewards_bootstrap_from_the_final_value_only() -> None:
    reward = np.array([1.0, 1.0, 1.0])
    terminated = np.array([False, True, True])
    truncated = np.array([True, False, True])  # env 2: both flags, a real termination wins
    out = bootstrap_truncated(reward, terminated, truncated, 0.9, np.array([10.0, 10.0, 10.0]))
    assert out.tolist() == [10.0, 1.0, 1.0]  # 1 + 0.9 * 10 only where cut by the time limit


def test_timeout_infos_mark_truncation_without_termination() -> None:
    infos = timeout_infos(np.array([True, False, True]), np.array([False, True, True]))
    assert [i["TimeLimit.truncated"] for i in infos] == [False, True, False]


def test_zoo_schedules_and_classes_are_decoded() -> None:
    lr = linear_schedule(1e-3)
    assert lr(1.0) == pytest.approx(1e-3) and lr(0.25) == pytest.approx(2.5e-4) and lr(0.0) == 0.0
    assert decode_value("clip_range", "lin_0.2")(0.5) == pytest.approx(0.1)
    assert decode_value("policy_kwargs", {"activation_fn": "nn.ReLU"})["activation_fn"] is torch.nn.ReLU
    with pytest.raises(UserError, match="lin_<number>"):
        decode_value("learning_rate", "lin_fast")


def test_zoo_defaults_then_user_overrides() -> None:
    assert zoo_key("CartPole-v1", pixels=False) == "CartPole-v1"
    assert zoo_key("rlkit/Atari-v0", pixels=True) == "atari"
    assert zoo_key("rlkit/GridMaze-v0", pixels=False) is None
    hp = merge_hyperparams("PPO", "CartPole-v1", True, {"gamma": 0.9, "policy_kwargs": {"net_arch": [8]}})
    assert hp["n_steps"] == 32 and hp["gamma"] == 0.9 and hp["policy_kwargs"] == {"net_arch": [8]}
    assert "n_envs" not in hp and "n_timesteps" not in hp  # run-level settings stay with the run
    assert merge_hyperparams("PPO", "CartPole-v1", False, {}) == {}
    dqn = merge_hyperparams("DQN", "atari", True, {})
    assert dqn["buffer_size"] == 100_000 and dqn["learning_starts"] == 100_000
    with pytest.raises(UserError, match="agent.hyperparams.n_envs is a Zoo run setting.*num_envs="):
        merge_hyperparams("PPO", "CartPole-v1", True, {"n_envs": 4})


def test_zoo_tables_hold_the_published_values() -> None:
    """rl_zoo3 2.9.2's hyperparams/{dqn,qrdqn,trpo}.yml, copied by hand (policy/env keys left out)."""
    assert zoo_hyperparams("DQN", "CartPole-v1") == {
        "learning_rate": 2.3e-3,
        "batch_size": 64,
        "buffer_size": 100_000,
        "learning_starts": 1000,
        "gamma": 0.99,
        "target_update_interval": 10,
        "train_freq": 256,
        "gradient_steps": 128,
        "exploration_fraction": 0.16,
        "exploration_final_eps": 0.04,
        "policy_kwargs": {"net_arch": [256, 256]},
    }
    assert zoo_run_settings("DQN", "CartPole-v1") == {"n_envs": 1, "n_timesteps": 50_000}
    assert zoo_hyperparams("QRDQN", "atari") == {
        "learning_starts": 50_000,
        "exploration_fraction": 0.025,
        "optimize_memory_usage": False,
    }
    assert zoo_hyperparams("TRPO", "CartPole-v1") == {
        "n_steps": 512,
        "batch_size": 512,
        "cg_damping": 1e-3,
        "gae_lambda": 0.98,
        "gamma": 0.99,
        "learning_rate": 1e-3,
        "n_critic_updates": 20,
    }
    assert zoo_run_settings("TRPO", "CartPole-v1") == {"n_envs": 2, "n_timesteps": 100_000}
    assert zoo_hyperparams("TRPO", "atari") == {} and zoo_hyperparams("PPO", None) == {}  # SB3's defaults
    model = sb3_agent(SB3Config(algo="TRPO", env_id="CartPole-v1"), _ctx(num_envs=2)).model
    assert (model.n_steps, model.n_critic_updates, model.cg_damping) == (512, 20, 1e-3)


def test_zoo_python_dict_strings_are_read_without_eval() -> None:
    text = "dict(log_std_init=-2, ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[256], vf=[256]))"
    assert parse_python_dict("policy_kwargs", text) == {
        "log_std_init": -2,
        "ortho_init": False,
        "activation_fn": "nn.ReLU",
        "net_arch": {"pi": [256], "vf": [256]},
    }
    hp = merge_hyperparams(
        "A2C", "atari", True, {"policy_kwargs": "dict(net_arch=[64, 64])", "train_freq": [1, "episode"]}
    )
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

    assert hp["policy_kwargs"] == {
        "optimizer_class": RMSpropTFLike,
        "optimizer_kwargs": {"eps": 1e-5},
        "net_arch": [64, 64],
    }
    assert hp["train_freq"] == (1, "episode")
    with pytest.raises(UserError, match="'os.system\\(1\\)' is not supported"):
        parse_python_dict("policy_kwargs", "dict(net_arch=os.system(1))")
    with pytest.raises(UserError, match="'NatureCNN' is not supported"):
        parse_python_dict("policy_kwargs", "dict(features_extractor_class=NatureCNN)")
    with pytest.raises(UserError, match="is not a Python dict"):
        parse_python_dict("policy_kwargs", "dict(net_arch=[64,")


# ----- the adapter matches SB3's own learn() to the bit ------------------------------------------------
@pytest.mark.parametrize(
    ("agent", "cls", "num_envs", "steps", "hp"),
    [
        ("sb3_dqn", "DQN", 1, 300, {"learning_starts": 100, "train_freq": 4, "target_update_interval": 50}),
        ("sb3_ppo", "PPO", 2, 128, {"n_steps": 32, "batch_size": 32, "n_epochs": 2}),
        ("sb3_a2c", "A2C", 2, 100, {}),
    ],
)
def test_same_weights_as_sb3_learn(agent, cls, num_envs, steps, hp, tmp_path: Path) -> None:
    """Same seed, same env, truncations included (cap 15): the runner-driven model equals SB3's learn()."""
    import stable_baselines3
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    venv = make_vec_env("CartPole-v1", n_envs=num_envs, seed=0, env_kwargs={"max_episode_steps": 15})
    ref = getattr(stable_baselines3, cls)("MlpPolicy", venv, seed=0, device="cpu", **hp).learn(steps)
    runner = trained_runner(
        tmp_path,
        f"agent={agent}",
        "env=CartPole-v1",
        "env.max_episode_steps=15",
        f"num_envs={num_envs}",
        f"total_steps={steps}",
        "agent.zoo=false",
        "eval.every=0",
        "eval.episodes=1",
        *FAST,
        *[f"++agent.hyperparams.{k}={v}" for k, v in hp.items()],
    )
    ours = runner.agent.model
    assert (ours.num_timesteps, ours._n_updates) == (ref.num_timesteps, ref._n_updates)
    assert ours._n_updates > 0
    for key, value in ref.policy.state_dict().items():
        assert torch.equal(value, ours.policy.state_dict()[key]), key


# ----- through the runner: metrics, checkpoints, evaluation ---------------------------------------------
@pytest.mark.parametrize(
    "overrides",
    [
        ("agent=sb3_ppo", "env=CartPole-v1", "total_steps=256", "num_envs=2"),
        ("agent=sb3_a2c", "env=CartPole-v1", "total_steps=200"),
        ("agent=sb3_dqn", "env=CartPole-v1", "total_steps=1200"),
        (
            "agent=sb3",
            "agent.algo=QRDQN",
            "env=maze",
            "total_steps=300",
            "++agent.hyperparams.learning_starts=50",
        ),
    ],
)
def test_trains_and_evaluates_through_the_runner(overrides, run_dir: Path) -> None:
    summary = train_in_process(run_dir, *overrides, "eval.every=100", "eval.episodes=2", *FAST)
    assert summary["final_eval"]["episodes"] == 2
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    train_keys = {k for row in rows for k in row if k.startswith("train/")}
    assert train_keys & {"train/loss", "train/value_loss", "train/policy_loss"}, train_keys
    assert any("eval/return_mean" in row for row in rows)
    state = load_checkpoint(run_dir / "checkpoints" / "latest.pt")  # weights-only loader, no pickles
    assert state["agent"]["counters"]["num_timesteps"] == summary["steps"]


def test_dqn_reports_epsilon_and_zoo_values(run_dir: Path) -> None:
    runner = trained_runner(run_dir, "agent=sb3_dqn", "env=CartPole-v1", "total_steps=1024", *FAST)
    model = runner.agent.model
    assert model.learning_starts == 1000 and model.train_freq.frequency == 256  # RL Zoo's CartPole-v1
    assert runner._last_metrics["epsilon"] == pytest.approx(model.exploration_rate)


def _ctx(env_id: str = "CartPole-v1", num_envs: int = 1) -> AgentContext:
    import gymnasium as gym

    env = gym.make(env_id)
    return AgentContext(env.observation_space, env.action_space, num_envs=num_envs, seed=3, env_name=env_id)


def test_checkpoint_round_trip_gives_the_same_policy_and_counters() -> None:
    cfg = SB3Config(name="sb3_ppo", algo="PPO", env_id="CartPole-v1", schedule_steps=1000)
    a = sb3_agent(cfg, _ctx())
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    a.model.num_timesteps = 123
    b = sb3_agent(SB3Config(**{**cfg.__dict__}), AgentContext(**{**_ctx().__dict__, "seed": 99}))
    b.load_state_dict(a.state_dict())
    assert np.array_equal(a.act(obs, explore=False), b.act(obs, explore=False))
    assert b.model.num_timesteps == 123
    with torch.no_grad():
        for key, value in a.model.policy.state_dict().items():
            assert torch.equal(value, b.model.policy.state_dict()[key])


def test_replay_buffer_gets_the_true_final_obs_and_the_timeout() -> None:
    cfg = SB3Config(name="sb3_dqn", algo="DQN", env_id="CartPole-v1")
    agent = sb3_agent(cfg, _ctx(num_envs=2))
    obs = np.zeros((2, 4), np.float32)
    action = agent.act(obs)
    final = np.full((2, 4), 7.0, np.float32)
    agent.observe(
        Transition(obs, action, np.ones(2), final, np.array([True, False]), np.array([False, True]), [{}, {}])
    )
    buf = agent.model.replay_buffer
    assert np.array_equal(buf.next_observations[0], final)
    assert buf.dones[0].tolist() == [1.0, 1.0] and buf.timeouts[0].tolist() == [0.0, 1.0]
    assert agent.model.num_timesteps == 2


# ----- errors name the key and the choices --------------------------------------------------------------
def test_algorithm_names_and_policies() -> None:
    names = algorithms()
    assert {"PPO", "A2C", "DQN", "SAC", "TD3", "QRDQN", "TQC", "TRPO"} <= set(names)
    with pytest.raises(UserError, match=r"agent.algo=PPOO is unknown\. Did you mean PPO\?.*QRDQN"):
        sb3_agent(SB3Config(algo="PPOO"), _ctx())
    with pytest.raises(UserError, match="Did you mean PPO"):
        sb3_agent(SB3Config(algo="ppo"), _ctx())
    with pytest.raises(UserError, match="ARS is not supported"):
        sb3_agent(SB3Config(algo="ARS"), _ctx())
    with pytest.raises(UserError, match="agent.policy=Foo is unknown; valid policies: auto, MlpPolicy"):
        sb3_agent(SB3Config(policy="Foo"), _ctx())
    with pytest.raises(UserError, match="agent.hyperparams.n_stepz is not a PPO argument"):
        sb3_agent(SB3Config(hyperparams={"n_stepz": 3}, zoo=False), _ctx())
    import gymnasium as gym

    assert choose_policy("auto", gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)) == "CnnPolicy"
    assert choose_policy("auto", gym.spaces.Box(-1, 1, (3,))) == "MlpPolicy"


def test_incompatible_action_space_names_the_spaces() -> None:
    with pytest.raises(IncompatibleError, match=r"DQN needs a Discrete action space.*Box\(-2\.0, 2\.0"):
        sb3_agent(SB3Config(algo="DQN", env_id="Pendulum-v1"), _ctx("Pendulum-v1"))
    with pytest.raises(IncompatibleError, match="SAC needs a Box action space"):
        sb3_agent(SB3Config(algo="SAC"), _ctx())


def test_continuous_off_policy_algorithm_runs(run_dir: Path) -> None:
    summary = train_in_process(
        run_dir,
        "agent=sb3",
        "agent.algo=TD3",
        "env=Pendulum-v1",
        "total_steps=120",
        "eval.episodes=1",
        "++agent.hyperparams.learning_starts=60",
        "++agent.hyperparams.buffer_size=1000",
        *FAST,
    )
    assert summary["steps"] == 120 and np.isfinite(summary["final_eval"]["return_mean"])


def test_rlkit_eval_scores_an_sb3_run(tmp_path: Path, capsys) -> None:
    from rlkit.frontend.cli import main
    from rlkit.frontend.eval_command import eval_command

    run = tmp_path / "run"
    args = ["agent=sb3_a2c", "env=CartPole-v1", "num_envs=8", "total_steps=160", "eval.episodes=2", *FAST]
    assert main(["train", *args, f"hydra.run.dir={run}"]) == 0
    assert eval_command([f"run={run}", "episodes=3", "seed=5"]) == 0
    record = json.loads((run / "eval.json").read_text())
    assert record["episodes"] == 3 and record["return_mean"] > 0
