"""Issue 12, items 10, 11 and 17 (bench parts): a bench checks every contestant first, keeps what it has when
one run fails, and shows each run's progress (ui=)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlkit.core.errors import IncompatibleError
from rlkit.frontend.bench import main

SMALL = ["env=maze", "seeds=[0,1]", "total_steps=300", "eval.every=100", "eval.episodes=2"]


def test_an_incompatible_agent_fails_before_any_training(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    with pytest.raises(IncompatibleError, match="agent 'dqn' needs a Box observation space"):
        main(["agents=[q_learning,dqn]", *SMALL, f"out={out}"])
    assert not out.exists()  # q_learning did not train first


def test_a_failing_contestant_leaves_the_others_results_and_is_marked(tmp_path: Path, monkeypatch, capsys):
    from rlkit.agents.tabular import TabularAgent

    original = TabularAgent.update

    def nan_loss_for_the_second(self):  # a contestant that diverges: the bench must survive it
        metrics = original(self)
        return {**metrics, "loss": float("nan")} if self.cfg.epsilon == 0.3 else metrics

    monkeypatch.setattr(TabularAgent, "update", nan_loss_for_the_second)
    out = tmp_path / "bench"
    args = ["agents=[q_learning,sarsa(agent.epsilon=0.3;as=bad)]", *SMALL, f"out={out}"]
    assert main(args) == 1
    assert "2 of 4 runs failed" in capsys.readouterr().err
    table = (out / "table.md").read_text()
    assert "| q_learning | 2 |" in table and "| bad | 0 (2 failed) |" in table
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert [(r["label"], r["error"] is None) for r in runs] == [
        ("q_learning", True), ("bad", False), ("q_learning", True), ("bad", False)
    ]  # fmt: skip
    assert "training diverged" in runs[1]["error"]
    assert (out / "curves.png").is_file()


def test_bench_takes_ui_and_shows_each_runs_progress(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench"
    assert main(["agents=[q_learning,sarsa]", *SMALL, "seeds=[0]", "ui=plain", f"out={out}"]) == 0
    printed = capsys.readouterr().out
    assert "[rlkit] q_learning on maze" in printed and "[rlkit] sarsa on maze" in printed
    assert "300/300 steps (100%)" in printed
