"""The `rlkit` command: help, the embedded default run (a real subprocess), one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rlkit.frontend.cli import main

RLKIT = shutil.which("rlkit", path=str(Path(sys.executable).parent)) or "rlkit"


def test_default_train_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [RLKIT, "train"], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "q_learning on maze: 200 episodes" in out
    assert "Final greedy evaluation (10 episodes): return 100.00" in out
    assert "tensorboard --logdir runs/" in out
    run_dirs = list((tmp_path / "runs").glob("*/*_q_learning_maze"))
    assert len(run_dirs) == 1
    run_dir = run_dirs[0]
    assert f"Run directory: {run_dir.relative_to(tmp_path)}" in out
    assert (run_dir / ".hydra" / "config.yaml").is_file()  # the resolved config
    assert json.loads((run_dir / "summary.json").read_text())["episodes"] == 200
    assert "\x1b[" not in out  # not a terminal: plain lines, no control characters


def test_user_error_subprocess_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([RLKIT, "train", "agent=q_lerning"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "Did you mean 'q_learning'?" in proc.stderr and "sarsa" in proc.stderr
    assert not (tmp_path / "runs").exists()  # failed fast, before a run directory


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["train", "agent=q_lerning"], "unknown agent 'q_lerning'. Did you mean 'q_learning'? Valid agents:"),
        (["train", "env=mase"], "unknown env 'mase'. Did you mean 'maze'?"),
        (["train", "env=CartPol"], "Did you mean 'CartPole-v1'"),
        (["train", "+experiment=nope"], "Valid experiments: book_lstm_sequences, book_q_learning"),
        (
            ["train", "agent.alpha=abc"],
            "Value 'abc' of type 'str' could not be converted to Float; full_key: agent.alpha",
        ),
        (["train", "agent.alpah=0.1"], "unknown key 'agent.alpah'. Did you mean 'agent.alpha'"),
        (["train", "ui=fancy"], "ui"),
        (["train", "agent.alpha=1.5"], "agent.alpha=1.5 is invalid: it must be in (0, 1]"),
        (["train", "num_envs=0"], "num_envs=0 is invalid: it must be >= 1"),
        (
            ["train", "env=CartPole-v1"],
            "needs Discrete observation and action spaces, but env 'CartPole-v1' has",
        ),
        (["train", "env=maze", "env.kwargs.map=[abc]"], "unknown symbol"),
        (
            ["train", "env=FrozenLake-v1", "env.kwargs.map_name=9x9"],
            "rejected env.kwargs {'map_name': '9x9'}",
        ),
        (
            ["train", "agent=reinforce", "env=CartPole-v1", "num_threads=0"],
            "num_threads=0 is invalid",
        ),
        (
            ["train", "agent=q_learning", "env=word2vec"],  # spaces with per-entry bounds, still one line
            "observation space Box(low 0..0, high 1..",
        ),
        (["trian"], "unknown command 'trian'; valid commands: train"),
        (["train", "device=tpu"], "device=tpu is invalid: valid values are auto, cpu, cuda or cuda:N"),
        (["train", "=3"], "'=3' has no key before '='"),
    ],
)
def test_user_errors_exit_2_with_one_clear_line(args, expected, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err and err.startswith("rlkit: error: ") and err.count("\n") == 1


def test_help_lists_commands_agents_and_envs(capsys) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for word in ("train", "q_learning", "sarsa", "expected_sarsa", "maze", "maze_traps", "Gymnasium id"):
        assert word in text
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    for word in ("total_steps", "eval:", "book_sarsa", "hydra.run.dir", "env.kwargs"):
        assert word in text


def test_device_cuda_without_cuda_is_one_line(capsys, tmp_path, monkeypatch) -> None:
    import torch

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", "device=cuda", "ui=none"]) == 2
    err = capsys.readouterr().err
    assert err == "rlkit: error: device=cuda: CUDA is not available here; valid values: auto, cpu\n"


def test_a_new_run_refuses_a_directory_that_holds_a_run(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "mine"
    argv = ["train", "total_episodes=5", "ui=none", f"hydra.run.dir={run_dir}"]
    assert main(argv) == 0
    metrics, config = (
        (run_dir / "metrics.jsonl").read_text(),
        (run_dir / ".hydra" / "config.yaml").read_text(),
    )
    capsys.readouterr()
    assert main([*argv, "agent=sarsa"]) == 2  # would append a second run's lines to metrics.jsonl
    err = capsys.readouterr().err
    assert f"hydra.run.dir={run_dir} already holds a run" in err and f"resume={run_dir}" in err
    assert (run_dir / "metrics.jsonl").read_text() == metrics
    assert (run_dir / ".hydra" / "config.yaml").read_text() == config  # the old run stays resumable


@pytest.mark.parametrize("argv", [["--cfg", "job", "agent=sarsa"], ["agent=sarsa", "--cfg", "job"]])
def test_cfg_job_prints_the_config_as_train_help_says(argv, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *argv]) == 0
    assert "name: sarsa" in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()  # printed, not trained


def test_chosen_run_dir_and_overrides(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "mine"
    argv = ["train", "agent=sarsa", "env=maze_traps", "agent.epsilon=0.2", "total_steps=2000", "seed=3"]
    assert main([*argv, "ui=none", f"hydra.run.dir={run_dir}"]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["agent"], summary["env"], summary["steps"], summary["seed"]) == (
        "sarsa",
        "maze_traps",
        2000,
        3,
    )
    assert "epsilon: 0.2" in (run_dir / ".hydra" / "config.yaml").read_text()
