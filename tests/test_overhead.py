"""Issue 20 (runner overhead): the faster paths compute exactly what the code before them computed.

Recorded values come from the runner as it was before the issue (commit f8715d6), on the same configs.
Tabular runs are pure float64 NumPy arithmetic, so their metrics.jsonl is the same file on every machine;
for torch runs the tests compare two code paths in one process instead (the fast path and the general one).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import rlkit.envs  # noqa: F401  (registers the envs)
from rlkit.core.batch_eval import EvalEnvs, evaluate_batched
from rlkit.core.evaluation import evaluate
from rlkit.core.vector import SerialVectorEnv, per_env_actions
from tests.conftest import train_in_process, trained_runner

TABULAR = ["agent=q_learning", "env=FrozenLake-v1", "total_steps=3000", "eval.every=1000"]


def lines(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    "num_envs, count, sha256, last_eval_length",
    [
        (1, 474, "9f5e79f23953a3222754952e0638957dee253f550650af97d820ee443c9b2459", 5.0),
        (2, 413, "d9eb05da5da029af5d1cd98c04bec8026905c60bc1f7cac0dc11353ac16dc7ec", 10.4),
    ],
)
def test_tabular_metrics_file_is_the_one_recorded_before(
    run_dir: Path, num_envs: int, count: int, sha256: str, last_eval_length: float
) -> None:
    train_in_process(run_dir, *TABULAR, f"num_envs={num_envs}")
    text = (run_dir / "metrics.jsonl").read_text()
    evals = [line for line in lines(run_dir) if "eval/length_mean" in line]
    assert [e["step"] for e in evals] == [1000, 2000, 3000]
    assert evals[-1]["eval/length_mean"] == last_eval_length
    assert len(text.splitlines()) == count
    assert hashlib.sha256(text.encode()).hexdigest() == sha256


def test_supervised_accuracy_is_the_one_recorded_before(run_dir: Path) -> None:
    train_in_process(
        run_dir, "agent=softmax_regression", "env=digits", "total_steps=30", "eval.every=15", "device=cpu"
    )
    evals = [(line["step"], line["eval/accuracy"]) for line in lines(run_dir) if "eval/accuracy" in line]
    assert evals == [(15, 291 / 359), (30, 332 / 359)]  # 0.8106 and 0.9248 of the 359 test digits


@pytest.mark.parametrize(
    "overrides",
    [
        ["agent=softmax_regression", "env=digits", "total_steps=30", "eval.every=15", "device=cpu"],
        ["agent=gan", "env=gaussian_ring", "total_steps=8", "eval.every=4", "device=cpu"],
        [*TABULAR, "total_steps=500"],
    ],
)
def test_one_env_fast_path_writes_what_the_general_path_writes(
    tmp_path: Path, monkeypatch, overrides: list[str]
) -> None:
    train_in_process(tmp_path / "fast", *overrides)
    monkeypatch.setattr(SerialVectorEnv, "_step_one", SerialVectorEnv._step_many)
    train_in_process(tmp_path / "general", *overrides)
    assert lines(tmp_path / "fast") == lines(tmp_path / "general")


def test_array_actions_reach_the_env_as_the_nested_lists_did() -> None:
    rng = np.random.default_rng(0)
    for actions in (
        rng.standard_normal((3, 128, 64)).astype(np.float32),  # a GAN's generated minibatches
        rng.integers(0, 10, (2, 100)).astype(np.int32),  # a classifier's predictions
        rng.random((2, 5)) < 0.5,
    ):
        via_lists = [np.asarray(a) for a in actions.tolist()]
        rows = per_env_actions(actions)
        for row, old in zip(rows, via_lists):
            assert row.dtype == old.dtype and np.array_equal(row, old)
        actions[:] = 0  # the env's rows are a copy: the agent may reuse its array
        assert any(np.any(row != 0) for row in rows)
    assert per_env_actions(np.array([3, 1])) == [3, 1]  # one number per env: Python scalars, as before
    assert [row.tolist() for row in per_env_actions(np.array([[0.5], [1.5]]))] == [[0.5], [1.5]]


def test_checkpoint_keeps_array_actions_as_plain_lists() -> None:
    envs = SerialVectorEnv([lambda: gym.make("Pendulum-v1")] * 2)
    envs.reset(seed=0)
    envs.step(np.array([[0.5], [-1.0]], dtype=np.float32))
    assert envs.state_dict()["actions"] == [[[0.5]], [[-1.0]]]


class FirstActionAgent:
    """Greedy: action 0 for every row; no randomness, so episodes may be batched."""

    batched_greedy = True

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        self.batch_sizes.append(len(obs))
        return np.zeros(len(obs), dtype=np.int64)


def test_batched_evaluation_gives_the_sequential_numbers(run_dir: Path) -> None:
    runner = trained_runner(
        run_dir, "agent=reinforce", "env=CartPole-v1", "total_steps=1200", "eval.every=0", "device=cpu"
    )
    env = gym.make("CartPole-v1")
    one_by_one = evaluate(runner.agent, env, 12, seed=5)
    side_by_side = evaluate_batched(runner.agent, [gym.make("CartPole-v1") for _ in range(5)], 12, seed=5)
    assert side_by_side == one_by_one
    assert len(set(one_by_one.returns)) > 1  # different episodes, not one repeated


def test_batched_evaluation_cuts_at_the_cap_and_weighs_metrics_in_order() -> None:
    def make() -> gym.Env:
        return gym.make("rlkit/Digits-v0", split="test", batch_size=50)

    agent = FirstActionAgent()
    progress: list[tuple[int, int, int]] = []
    result = EvalEnvs(make).evaluate(agent, 3, seed=0, max_steps=4, on_episode=lambda *a: progress.append(a))
    sequential = evaluate(FirstActionAgent(), make(), 3, seed=0, max_steps=4)
    assert result == sequential and result.cut == [True, True, True] and result.lengths == [4, 4, 4]
    assert agent.batch_sizes == [3, 3, 3, 3]  # one act() for the three episodes at each step
    assert progress[0] == (0, 3, 0) and progress[-1] == (3, 3, 12)
