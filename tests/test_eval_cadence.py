"""Issue 20, round 3: an agent's own evaluation cadence (configs/eval/, named in the agent YAML's defaults).

DQN and REINFORCE evaluate every 10,000 env steps by default; every other agent keeps the run-wide 2,000
(the same config as before, so the same metrics.jsonl); `eval.every=` and experiments still win; and the
cadence changes which evaluations are logged, never the training.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlkit.core.config import EvalConfig
from rlkit.frontend.cli import main
from rlkit.frontend.compose import compose_config
from tests.conftest import one_line_error, train_in_process

pytestmark = pytest.mark.filterwarnings("ignore:RL Zoo tuned", "ignore:agent.learning_starts")


def lines(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    "overrides, every",
    [
        (["agent=reinforce", "env=CartPole-v1"], 10_000),
        (["agent=dqn", "env=CartPole-v1"], 10_000),
        (["agent=dqn", "env=Breakout"], 10_000),
        (["agent=reinforce", "env=CartPole-v1", "eval.every=300"], 300),  # the command line wins
        (["agent=dqn", "env=CartPole-v1", "eval.every=0"], 0),
        (["+experiment=dqn_cartpole"], 5_000),  # an experiment's own cadence wins
        (["+experiment=reinforce_cartpole_book"], 5_000),
        (["+experiment=dqn_cartpole", "eval.every=700"], 700),
        ([], 2_000),  # everyone else: the run-wide default, as before
        (["agent=sarsa", "env=maze_traps"], 2_000),
        (["agent=sb3_ppo", "env=CartPole-v1"], 2_000),
        (["agent=softmax_regression", "env=digits"], 2_000),
    ],
)
def test_each_agent_gets_its_cadence_and_overrides_still_win(overrides: list[str], every: int) -> None:
    cfg = compose_config(overrides)
    assert cfg.eval.every == every
    assert (cfg.eval.episodes, cfg.eval.max_episode_steps) == (10, 10_000)


def test_the_run_wide_default_is_the_schemas() -> None:
    assert (EvalConfig().every, EvalConfig().episodes) == (2_000, 10)  # train.yaml no longer repeats them


def test_a_default_dqn_run_evaluates_every_10000_steps_and_records_it(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    args = ["train", "agent=dqn", "env=CartPole-v1", "num_envs=10", "total_steps=12000", "eval.episodes=2"]
    code = main([*args, "ui=none", "device=cpu", f"hydra.run.dir={run}"])
    assert code == 0, capsys.readouterr().err
    assert [row["step"] for row in lines(run) if "eval/return_mean" in row] == [10_000, 12_000]
    assert "every: 10000" in (run / ".hydra" / "config.yaml").read_text()  # play, eval and resume see it


def test_the_cadence_changes_the_evaluations_not_the_training(tmp_path: Path) -> None:
    base = ["agent=reinforce", "env=CartPole-v1", "num_envs=16", "total_steps=4000", "device=cpu"]
    train_in_process(tmp_path / "default", *base)
    train_in_process(tmp_path / "every2000", *base, "eval.every=2000")
    default, every2000 = lines(tmp_path / "default"), lines(tmp_path / "every2000")

    def training(rows: list[dict]) -> list[dict]:
        return [row for row in rows if "eval/return_mean" not in row]

    assert training(default) == training(every2000) and len(training(default)) > 100
    assert [r["step"] for r in default if "eval/return_mean" in r] == [4000]
    assert [r["step"] for r in every2000 if "eval/return_mean" in r] == [2000, 4000]
    assert default[-1] == every2000[-1]  # the final evaluation: the same policy, the same numbers


@pytest.mark.parametrize("arg", ["eval=5", "eval=deep_rl", "+eval=deep_rl"])
def test_eval_as_a_choice_is_refused_in_one_line(capsys, arg: str) -> None:
    err = one_line_error(capsys, ["train", arg])
    assert "eval is a section" in err and "eval.every=" in err
