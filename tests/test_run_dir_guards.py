"""What a review of the issue-12/13 work found: Ctrl-C in the final evaluation, benches racing into one
out=, runs written into directories that hold other files, `rlkit eval out=` over the run's own files, and
an agent class chosen on the command line."""

from __future__ import annotations

import json
import os

from rlkit.core.evaluation import evaluate
from rlkit.frontend.cli import main
from rlkit.frontend.rundir import locked_run_dir
from tests.conftest import one_line_error

SHORT = ["total_steps=300", "ui=none"]


def test_ctrl_c_during_the_final_evaluation_keeps_the_trained_state(tmp_path, monkeypatch, capsys) -> None:
    run = tmp_path / "run"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("rlkit.core.batch_eval.evaluate", interrupted)
    assert main(["train", *SHORT, "eval.every=0", "checkpoint.every=0", f"hydra.run.dir={run}"]) == 130
    assert "final evaluation was interrupted" in capsys.readouterr().err
    monkeypatch.setattr("rlkit.core.batch_eval.evaluate", evaluate)
    assert main(["train", f"resume={run}", "ui=none"]) == 0  # nothing retrained: only the evaluation
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 300 and summary.get("session_steps", 0) == 0
    assert summary["final_eval"]["episodes"] == 10


def test_a_second_bench_into_the_same_out_is_refused(tmp_path, capsys) -> None:
    out = tmp_path / "bench"
    with locked_run_dir(out):  # another bench holds it
        err = one_line_error(
            capsys, ["bench", "agents=[q_learning,sarsa]", "seeds=[0]", f"out={out}", *SHORT]
        )
    assert "is in use by another rlkit process" in err and f"(PID {os.getpid()})" in err
    assert sorted(p.name for p in out.iterdir()) == [".lock"]  # nothing trained there


def test_a_new_run_is_refused_in_a_directory_that_holds_other_files(tmp_path, capsys) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    err = one_line_error(capsys, ["train", *SHORT, f"hydra.run.dir={mine}"])
    assert "is not empty (it holds notes.txt)" in err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]  # no lock file, no .hydra/
    run = tmp_path / "run"
    assert main(["train", *SHORT, f"hydra.run.dir={run}"]) == 0
    err = one_line_error(
        capsys, ["train", *SHORT, f"hydra.run.dir={run / 'checkpoints'}"]
    )  # a run inside a run
    assert "is not empty" in err


def test_eval_out_cannot_overwrite_the_runs_own_files(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *SHORT, f"hydra.run.dir={run}"]) == 0
    capsys.readouterr()
    config = (run / ".hydra" / "config.yaml").read_text()
    latest = (run / "checkpoints" / "latest.pt").read_bytes()
    for target in (run / ".hydra" / "config.yaml", run / "checkpoints" / "latest.pt", run / "summary.json"):
        err = one_line_error(capsys, ["eval", f"run={run}", "episodes=1", "ui=none", f"out={target}"])
        assert "would overwrite the run's own files" in err
    assert (run / ".hydra" / "config.yaml").read_text() == config
    assert (run / "checkpoints" / "latest.pt").read_bytes() == latest
    assert main(["eval", f"run={run}", "episodes=1", "ui=none", f"out={run / 'eval_one.json'}"]) == 0
    assert json.loads((run / "eval_one.json").read_text())["episodes"] == 1


def test_an_agent_class_cannot_be_chosen_on_the_command_line(capsys) -> None:
    err = one_line_error(capsys, ["train", "agent._target_=os.system"])
    assert "agent._target_ is not an option" in err and "agent=<name>" in err


def test_a_run_refused_before_training_leaves_no_directory(tmp_path, capsys) -> None:
    run = tmp_path / "runs" / "cart"
    err = one_line_error(capsys, ["train", "env=CartPole-v1", "ui=none", f"hydra.run.dir={run}"])
    assert "tabular" in err  # q_learning needs Discrete spaces: found only once the env is built
    assert not run.exists()


def test_eval_takes_a_numbered_checkpoint_by_the_name_it_lists(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *SHORT, "checkpoint.every=100", f"hydra.run.dir={run}"]) == 0
    err = one_line_error(capsys, ["eval", f"run={run}", "episodes=1", "ui=none", "checkpoint=ckpt_9"])
    assert "valid values are latest, best, a checkpoint's name" in err
    name = sorted(p.stem for p in (run / "checkpoints").glob("ckpt_*.pt"))[0]
    assert main(["eval", f"run={run}", "episodes=1", "ui=none", f"checkpoint={name}"]) == 0
    assert json.loads((run / "eval.json").read_text())["checkpoint"].endswith(f"{name}.pt")
