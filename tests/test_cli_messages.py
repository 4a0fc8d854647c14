"""Issue 12, items 10 and 17 (command-line parts): sweep advice, DQN's warning after the real error, no empty
train.log, and a resumed run's Done line counting only its own steps."""

from __future__ import annotations

import json
from pathlib import Path

from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update


def test_a_sweep_is_pointed_to_a_loop_not_to_multirun(capsys) -> None:
    assert main(["train", "-m", "seed=0,1", "ui=none"]) == 2
    err = capsys.readouterr().err
    assert "add --multirun" not in err and "for s in 0 1 2; do rlkit train seed=$s; done" in err
    assert len(err.strip().splitlines()) == 1


def test_dqn_on_an_incompatible_env_prints_only_the_error(tmp_path: Path, capsys) -> None:
    args = ["train", "agent=dqn", "env=maze", "total_steps=100", "ui=none", f"hydra.run.dir={tmp_path / 'r'}"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlkit: error: agent 'dqn' needs a Box observation space")
    assert "learning_starts" not in err


def test_a_run_directory_has_no_empty_train_log(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", "total_steps=100", "ui=none", f"hydra.run.dir={run}"]) == 0
    assert (run / "summary.json").is_file()
    assert not (run / "train.log").exists()


def test_the_done_line_of_a_resumed_run_counts_its_own_steps(tmp_path: Path, monkeypatch, capsys) -> None:
    from rlkit.agents.tabular import TabularAgent

    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, TabularAgent, 1500):
        assert main(["train", "total_steps=2000", "eval.every=0", "ui=none", f"hydra.run.dir={run}"]) == 130
    capsys.readouterr()
    assert main(["train", f"resume={run}"]) == 0
    assert "2,000 steps (500 since the resume) in " in capsys.readouterr().out
    assert json.loads((run / "summary.json").read_text())["session_steps"] == 500
