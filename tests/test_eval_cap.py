"""Issue 12, items 7 and 12 (and parts of 17): evaluation is capped, runs once, and shows its progress."""

from __future__ import annotations

import io
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from rich.console import Console

from rlkit.core.evaluation import evaluate
from rlkit.frontend.app import build_runner
from rlkit.frontend.compose import compose_config
from rlkit.frontend.eval_command import eval_command
from rlkit.frontend.ui import NullUI, RichUI, Snapshot
from tests.conftest import train_in_process

ENDLESS = "rlkit_test/Endless-v0"  # no time limit, never terminates: a looping policy never ends an episode


class EndlessEnv(gym.Env):
    """Two states, reward -1 a step, no terminal state."""

    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return int(action), -1.0, False, False, {}


if ENDLESS not in gym.registry:
    gym.register(id=ENDLESS, entry_point=EndlessEnv)
    gym.register(id="rlkit_test/EndlessCapped-v0", entry_point=EndlessEnv, max_episode_steps=5)


class ZeroAgent:
    """Always action 0."""

    def act(self, obs, explore=True):
        return np.zeros(len(obs), dtype=np.int64)


class RecordingUI(NullUI):
    """Keeps every snapshot the runner shows."""

    def __init__(self) -> None:
        self.snaps: list[Snapshot] = []

    def update(self, snap: Snapshot) -> None:
        self.snaps.append(snap)

    def stop(self, snap: Snapshot | None = None) -> None:
        if snap is not None:
            self.snaps.append(snap)


def rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


# ----- item 12: the final evaluation runs once ------------------------------------------------------------
def test_final_evaluation_and_last_log_line_are_written_once(run_dir: Path) -> None:
    train_in_process(run_dir, "total_steps=4000", "eval.every=2000", "log_every=1000", "eval.episodes=2")
    lines = rows(run_dir)
    assert [r["step"] for r in lines if "eval/return_mean" in r] == [2000, 4000]
    assert [r["step"] for r in lines if "train/episodes" in r] == [1000, 2000, 3000, 4000]


def test_the_display_says_evaluating_k_of_n_episodes(run_dir: Path) -> None:
    runner = build_runner(
        compose_config(["ui=none", "total_steps=300", "eval.every=0", "eval.episodes=3"]), run_dir
    )
    runner.ui = ui = RecordingUI()
    try:
        runner.train()
    finally:
        runner.close()
    stats = [s.stats() for s in ui.snaps]
    assert any(line.startswith("evaluating 0/3 episodes") for line in stats)
    assert "evaluating" not in stats[-1]  # gone once the evaluation has ended


# ----- item 7: an evaluation episode has a cap ------------------------------------------------------------
def test_evaluation_of_an_env_without_time_limit_stops_at_the_cap_and_counts_truncation() -> None:
    result = evaluate(ZeroAgent(), gym.make(ENDLESS), episodes=2, seed=0, max_steps=7)
    assert result.lengths == [7, 7] and result.cut == [True, True]
    assert result.summary()["truncated"] == 1.0


def test_the_envs_own_time_limit_wins_over_the_cap() -> None:
    result = evaluate(ZeroAgent(), gym.make("rlkit_test/EndlessCapped-v0"), episodes=2, seed=0, max_steps=3)
    assert result.lengths == [5, 5] and result.summary()["truncated"] == 0.0  # the env's own truncation


def test_an_all_truncated_evaluation_is_logged_but_never_best(run_dir: Path) -> None:
    with pytest.warns(UserWarning, match="eval.max_episode_steps=25"):
        summary = train_in_process(
            run_dir, f"env={ENDLESS}", "agent=sarsa", "total_steps=50", "eval.every=0", "eval.episodes=2",
            "eval.max_episode_steps=25",
        )  # fmt: skip
    (last,) = [r for r in rows(run_dir) if "eval/return_mean" in r]
    assert (
        last["eval/truncated"] == 1.0 and last["eval/length_mean"] == 25 and last["eval/return_mean"] == -25
    )
    assert summary["final_eval"]["truncated"] == 1.0
    assert not (run_dir / "checkpoints" / "best.pt").exists()


def test_eval_max_episode_steps_is_checked(run_dir: Path) -> None:
    from rlkit.core.errors import UserError

    with pytest.raises(UserError, match=r"eval.max_episode_steps=0 is invalid: it must be >= 1"):
        train_in_process(run_dir, "eval.max_episode_steps=0")


def test_rlkit_eval_shows_progress_on_stderr(run_dir: Path, capsys) -> None:
    from rlkit.frontend.cli import main

    assert main(["train", "ui=none", f"hydra.run.dir={run_dir}", "total_steps=200", "eval.every=0"]) == 0
    capsys.readouterr()
    assert eval_command([f"run={run_dir}", "episodes=3", "ui=plain"]) == 0
    captured = capsys.readouterr()
    assert "3/3 episodes (100%)" in captured.err
    assert "return mean" in captured.out and "3/3 episodes" not in captured.out
    assert json.loads((run_dir / "eval.json").read_text())["truncated"] == 0.0


# ----- item 17 (display parts) ----------------------------------------------------------------------------
def test_the_progress_bar_counts_have_thousands_separators() -> None:
    console = Console(file=io.StringIO(), width=160, force_terminal=True)
    ui = RichUI(console)
    ui.start("q_learning on maze")
    ui.stop(Snapshot(step=12_345, episodes=7, total=20_000, unit="steps", sps=1.0, elapsed=1.0))
    assert "12,345/20,000" in console.file.getvalue()


def test_steps_per_second_after_a_resume_count_only_this_sessions_steps(run_dir: Path) -> None:
    runner = build_runner(compose_config(["ui=none", "total_steps=1100", "eval.every=0"]), run_dir)
    runner.counters.step = 1000  # as a resume from a checkpoint at step 1000 sets it
    runner.ui = ui = RecordingUI()
    try:
        runner.train()
    finally:
        runner.close()
    last = ui.snaps[-1]
    assert last.step == 1100
    assert last.sps * last.elapsed == pytest.approx(100)
