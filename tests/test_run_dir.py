"""Issue 12, items 1-3, 5, 6: a run's directory and checkpoints survive resumes, refusals, races, Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlkit.core.checkpoint import Checkpointer, load_checkpoint
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, signal_after_checkpoint_writes

RLKIT = str(Path(sys.executable).parent / "rlkit")
MAZE = ["agent=sarsa", "env=maze_traps", "total_steps=3000", "checkpoint.every=1000", "ui=none"]
LONG = ["agent=sarsa", "env=FrozenLake-v1", "total_steps=100000000", "checkpoint.every=1000", "ui=none"]


def hydra_files(run: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((run / ".hydra").iterdir())}


def interrupted_run(run: Path, monkeypatch, at_update: int = 1234, args: list[str] = MAZE) -> None:
    """`rlkit train <args>` stopped by Ctrl-C at the agent's `at_update`-th update (exit 130)."""
    from rlkit.agents.tabular import TabularAgent

    with ctrl_c_at_update(monkeypatch, TabularAgent, at_update):
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def fail_if_training_starts(monkeypatch) -> None:
    from rlkit.core.runner import Runner

    def train(self):
        raise AssertionError("a second process trained in a run directory in use")

    monkeypatch.setattr(Runner, "train", train)


# ----- item 1: a run's recorded config is written once ------------------------------------------------------
def test_resume_keeps_the_recorded_config_and_the_run_stays_evaluable(tmp_path, monkeypatch, capsys) -> None:
    run = tmp_path / "run"
    interrupted_run(run, monkeypatch)
    recorded = hydra_files(run)
    assert main(["train", f"resume={run}", "ui=none"]) == 0
    assert hydra_files(run) == recorded
    assert main(["train", f"resume={run}"]) == 2  # refused: complete
    assert "already complete" in capsys.readouterr().err
    assert hydra_files(run) == recorded
    assert main(["eval", f"run={run}", "episodes=2"]) == 0
    assert json.loads((run / "eval.json").read_text())["agent"] == "sarsa"
    assert main(["play", f"run={run}", "render=text", "speed=0"]) == 0
    assert hydra_files(run) == recorded


def test_a_run_whose_overrides_an_older_resume_rewrote_can_still_be_evaluated(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", *MAZE, f"hydra.run.dir={run}"]) == 0
    saved = run / ".hydra" / "overrides.yaml"
    saved.write_text(saved.read_text() + f"- resume={run}\n")  # what `train resume=` used to write
    assert main(["eval", f"run={run}", "episodes=2"]) == 0


# ----- item 2: every spelling of the directory is checked before anything is written ------------------------
@pytest.mark.parametrize("spelling", ["'{run}'", '"{run}"', "${{oc.env:RLKIT_TEST_RUN}}", "{rel}"])
def test_a_refused_run_leaves_the_existing_runs_config_alone(spelling, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "runs" / "x"
    monkeypatch.setenv("RLKIT_TEST_RUN", str(run))
    assert main(["train", *MAZE, f"hydra.run.dir={run}"]) == 0
    recorded = hydra_files(run)
    capsys.readouterr()
    value = spelling.format(run=run, rel="runs/x")
    assert main(["train", "agent=q_learning", "total_steps=2000", "ui=none", f"hydra.run.dir={value}"]) == 2
    assert capsys.readouterr().err == (
        f"rlkit: error: hydra.run.dir={run} already holds a run (metrics.jsonl, checkpoints/); "
        f"continue it with resume={run}, or choose another directory\n"
    )
    assert hydra_files(run) == recorded
    assert main(["eval", f"run={run}", "episodes=1"]) == 0
    assert json.loads((run / "eval.json").read_text())["agent"] == "sarsa"


def test_a_run_dir_with_spaces_and_quotes_is_used_as_given(tmp_path: Path, capsys) -> None:
    run = tmp_path / "my runs" / "it's"
    assert main(["train", *MAZE, f"hydra.run.dir='{run}'".replace("it's", "it\\'s")]) == 0
    assert (run / "summary.json").is_file() and (run / ".hydra" / "config.yaml").is_file()
    assert main(["train", f"resume={run}"]) == 2
    assert "already complete" in capsys.readouterr().err


# ----- item 3: one process at a time in a run directory -----------------------------------------------------
def test_a_second_run_into_a_directory_in_use_is_refused_naming_the_pid(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    first = subprocess.Popen([RLKIT, "train", *LONG, "seed=1", f"hydra.run.dir={run}"], cwd=tmp_path)
    try:
        wait_for(lambda: (run / "metrics.jsonl").exists(), "the first run to start")
        recorded = hydra_files(run)
        fail_if_training_starts(monkeypatch)
        assert main(["train", *LONG, "seed=0", f"hydra.run.dir={run}"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"rlkit: error: run directory {run} is in use by another rlkit process ")
        assert f"(PID {first.pid})" in err and err.count("\n") == 1
        assert hydra_files(run) == recorded and "seed: 1" in recorded["config.yaml"]
    finally:
        first.kill()
        first.wait(timeout=30)


def test_two_resumes_of_one_run_do_not_both_proceed(tmp_path, monkeypatch, capsys) -> None:
    run = tmp_path / "run"
    first = subprocess.Popen([RLKIT, "train", *LONG, f"hydra.run.dir={run}"], cwd=tmp_path)
    wait_for(lambda: (run / "checkpoints" / "latest.pt").exists(), "a checkpoint")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    resumed = subprocess.Popen([RLKIT, "train", f"resume={run}", "ui=none"], cwd=tmp_path)
    try:
        wait_for(lambda: any(run.glob(f"events.out.tfevents.*.{resumed.pid}.rlkit")), "the resume to start")
        fail_if_training_starts(monkeypatch)
        assert main(["train", f"resume={run}", "ui=none"]) == 2
        assert f"is in use by another rlkit process (PID {resumed.pid})" in capsys.readouterr().err
    finally:
        resumed.kill()
        resumed.wait(timeout=30)
    assert main(["train", *LONG, "seed=0", f"hydra.run.dir={run}"]) == 2  # the lock died with the process
    assert "already holds a run" in capsys.readouterr().err


# ----- item 5: damaged and missing checkpoints --------------------------------------------------------------
def test_resume_over_a_latest_pt_that_is_a_directory_finishes(tmp_path, monkeypatch, capsys) -> None:
    run = tmp_path / "run"
    interrupted_run(run, monkeypatch)
    ckpts = run / "checkpoints"
    (ckpts / "latest.pt").unlink()
    (ckpts / "latest.pt").mkdir()
    assert main(["train", f"resume={run}", "ui=none"]) == 0
    assert load_checkpoint(ckpts / "latest.pt")["runner"]["step"] == 3000
    assert not (ckpts / ".latest.pt.tmp").exists()
    assert "latest.pt was a directory" in capsys.readouterr().err


def test_a_run_stopped_before_its_first_numbered_checkpoint_resumes_from_best(tmp_path, monkeypatch) -> None:
    args = ["agent=sarsa", "env=maze_traps", "total_steps=5000", "eval.every=500", "checkpoint.every=0"]
    args.append("ui=none")
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    interrupted_run(run, monkeypatch, at_update=1234, args=args)
    for path in (run / "checkpoints").iterdir():  # what a kill before the first numbered checkpoint leaves
        if path.name != "best.pt":
            path.unlink()
    assert main(["train", f"resume={run}", "ui=none"]) == 0
    assert json.loads((run / "summary.json").read_text())["steps"] == 5000
    assert (run / "metrics.jsonl").read_text() == (tmp_path / "ref" / "metrics.jsonl").read_text()


def test_a_run_stopped_before_any_checkpoint_is_not_sent_to_resume(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *MAZE, f"hydra.run.dir={run}"]) == 0
    for path in (run / "checkpoints").iterdir():  # a kill before the first evaluation and checkpoint
        path.unlink()
    capsys.readouterr()
    assert main(["train", *MAZE, f"hydra.run.dir={run}"]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint to resume from: delete it, or choose another directory" in err
    assert "resume=" not in err
    assert main(["train", f"resume={run}"]) == 2
    assert "delete it and train again, or train into another directory" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["eval", "play"])
def test_eval_and_play_fall_back_from_a_damaged_latest(command, tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *MAZE, f"hydra.run.dir={run}"]) == 0
    latest = run / "checkpoints" / "latest.pt"
    latest.unlink()  # a hard link: writing through it would damage ckpt_3000 too
    latest.write_bytes(b"RLKITCK1 cut short")
    capsys.readouterr()
    extra = ["episodes=1"] if command == "eval" else ["render=text", "speed=0"]
    assert main([command, f"run={run}", *extra]) == 0
    assert "trying an older checkpoint" in capsys.readouterr().err
    if command == "eval":
        assert json.loads((run / "eval.json").read_text())["checkpoint_step"] == 3000


# ----- item 6: Ctrl-C twice ---------------------------------------------------------------------------------
def test_a_second_ctrl_c_during_a_checkpoint_write_leaves_a_consistent_set(tmp_path, monkeypatch) -> None:
    ckpt = Checkpointer(tmp_path, keep=3)
    for step in (100, 200, 300):
        ckpt.save({"runner": {"step": step}}, step)
    signal_after_checkpoint_writes(monkeypatch, signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):  # delivered once the set is consistent again
        ckpt.save({"runner": {"step": 400}}, 400)
    assert [p.name for p in ckpt.numbered()] == [f"ckpt_{s:012d}.pt" for s in (200, 300, 400)]
    assert load_checkpoint(tmp_path / "latest.pt")["runner"]["step"] == 400


def test_ctrl_c_while_the_process_exits_prints_no_traceback(tmp_path: Path) -> None:
    script = (
        "import atexit, os, signal, sys, time\n"
        "import rlkit.frontend.cli as cli\n"
        "def stopped(overrides):\n"
        "    raise KeyboardInterrupt('a checkpoint was saved at step 1; continue with: rlkit train resume=x')"
        "\n"
        "cli._train = stopped\n"
        "atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.5)))\n"
        "sys.argv = ['rlkit', 'train', 'ui=none']\n"
        "sys.exit(cli.main())\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 130
    assert proc.stderr == (
        "rlkit: interrupted; a checkpoint was saved at step 1; continue with: rlkit train resume=x\n"
    )
