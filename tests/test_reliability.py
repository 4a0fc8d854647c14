"""Reliability: resume after a kill, checkpoints that survive damage, no code from files, bad input, NaN."""

from __future__ import annotations

import errno
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rlkit.core.checkpoint import MAGIC, Checkpointer, CheckpointError, load_checkpoint, save_checkpoint
from rlkit.core.commands import command
from rlkit.core.divergence import DivergedError
from rlkit.frontend.cli import main

from .conftest import ctrl_c_at_update, train_in_process

RLKIT = str(Path(sys.executable).parent / "rlkit")
RUN = ["env=FrozenLake-v1", "agent=sarsa", "total_steps=30000", "checkpoint.every=2000", "eval.every=10000"]


def metric_lines(run_dir: Path) -> list[str]:
    return (run_dir / "metrics.jsonl").read_text().splitlines()


def q_table(run_dir: Path) -> np.ndarray:
    return load_checkpoint(run_dir / "checkpoints" / "latest.pt")["agent"]["q"].numpy()


def test_sigkill_then_resume_ends_exactly_like_an_uninterrupted_run(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    assert main(["train", *RUN, "ui=none", f"hydra.run.dir={reference}"]) == 0

    killed = tmp_path / "killed"
    proc = subprocess.Popen([RLKIT, "train", *RUN, "ui=none", f"hydra.run.dir={killed}"], cwd=tmp_path)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(list((killed / "checkpoints").glob("ckpt_*.pt"))) < 3:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (killed / "summary.json").exists()

    resumed = subprocess.run([RLKIT, "train", f"resume={killed}", "ui=none"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((killed / "summary.json").read_text())
    assert summary["steps"] == 30000 and summary["resumed"]
    assert load_checkpoint(killed / "checkpoints" / "latest.pt")["runner"]["step"] == 30000
    # Continuous metrics: no step lost or repeated, and the very same numbers as without the kill.
    assert metric_lines(killed) == metric_lines(reference)
    assert np.array_equal(q_table(killed), q_table(reference))


def test_ctrl_c_then_resume_in_process_is_exact(tmp_path: Path, monkeypatch, capsys) -> None:
    from rlkit.agents.tabular import TabularAgent

    args = ["agent=q_learning", "env=maze_traps", "total_steps=5000", "checkpoint.every=0", "ui=none"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, TabularAgent, 1234):  # mid-episode
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    err = capsys.readouterr().err
    assert (
        "rlkit: interrupted; a checkpoint was saved at step 1,234; "
        f"continue with: {command('rlkit')} train resume={run}" in err
    )
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["runner"]["step"] == 1234
    assert main(["train", f"resume={run}"]) == 0
    assert metric_lines(run) == metric_lines(tmp_path / "ref")


def test_resume_errors_are_clear(tmp_path: Path, capsys) -> None:
    assert main(["train", f"resume={tmp_path / 'nope'}"]) == 2
    assert "no such run directory" in capsys.readouterr().err
    run = tmp_path / "run"
    assert main(["train", "total_episodes=5", "ui=none", f"hydra.run.dir={run}"]) == 0
    assert main(["train", f"resume={run}", "agent.alpha=0.5"]) == 2
    assert "not allowed with it: agent.alpha=0.5" in capsys.readouterr().err
    assert main(["train", f"resume={run}"]) == 2
    assert "already complete" in capsys.readouterr().err


def test_damaged_latest_falls_back_to_the_previous_checkpoint(tmp_path: Path, capsys) -> None:
    ckpt = Checkpointer(tmp_path, keep=2)
    for step in (100, 200, 300):
        ckpt.save({"runner": {"step": step}}, step)
    assert [p.name for p in ckpt.numbered()] == ["ckpt_000000000200.pt", "ckpt_000000000300.pt"]
    data = (tmp_path / "latest.pt").read_bytes()
    (tmp_path / "ckpt_000000000300.pt").write_bytes(data[: len(data) // 2])  # truncated (latest is a link)
    state, path = ckpt.load_latest()
    assert state["runner"]["step"] == 200 and path.name == "ckpt_000000000200.pt"
    assert "checksum does not match" in capsys.readouterr().err
    flipped = bytearray((tmp_path / "ckpt_000000000200.pt").read_bytes())
    flipped[-5] ^= 0xFF
    (tmp_path / "ckpt_000000000200.pt").write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="no usable checkpoint"):
        ckpt.load_latest()


class Exploit:
    """Unpickling this would run a shell command."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_carrying_pickled_code_is_refused(tmp_path: Path) -> None:
    import hashlib

    marker = tmp_path / "pwned"
    payload = pickle.dumps({"format": 2, "agent": Exploit(marker)})
    evil = tmp_path / "evil.pt"
    evil.write_bytes(MAGIC + hashlib.sha256(payload).digest() + payload)  # a valid checksum, even
    with pytest.raises(CheckpointError, match="carries pickled objects and is refused"):
        load_checkpoint(evil)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(payload)
    with pytest.raises(CheckpointError, match="not an rlkit checkpoint"):
        load_checkpoint(raw)
    assert not marker.exists()


def test_full_disk_keeps_the_old_checkpoint(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "latest.pt"
    save_checkpoint(path, {"runner": {"step": 1}})

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(CheckpointError, match="No space left on device; the previous checkpoint is kept"):
        save_checkpoint(path, {"runner": {"step": 2}})
    monkeypatch.undo()
    assert load_checkpoint(path)["runner"]["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]  # no temporary file left behind


def test_full_disk_during_training_stops_with_a_message(tmp_path: Path, monkeypatch, capsys) -> None:
    import rlkit.core.checkpoint as checkpoint

    real, calls = checkpoint._atomic_write, {"n": 0}

    def fail_on_third(path, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise checkpoint.CheckpointError(f"could not write checkpoint {path}: No space left on device")
        real(path, data)

    monkeypatch.setattr(checkpoint, "_atomic_write", fail_on_third)
    args = ["train", "total_steps=3000", "checkpoint.every=500", "eval.every=0", "ui=none"]
    assert main([*args, f"hydra.run.dir={tmp_path / 'run'}"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["runner"]["step"] == 1000


def test_non_finite_metric_stops_training_and_keeps_the_last_good_checkpoint(tmp_path: Path, monkeypatch):
    from rlkit.agents.tabular import TabularAgent

    original = TabularAgent.update

    def nan_from_step_700(self):  # as when the parameters have become NaN
        metrics = original(self)
        return {**metrics, "abs_td_error": float("nan")} if self.steps >= 700 else metrics

    monkeypatch.setattr(TabularAgent, "update", nan_from_step_700)
    with pytest.raises(DivergedError, match=r"diverged at step 750: non-finite train/abs_td_error=nan"):
        train_in_process(tmp_path, "total_steps=2000", "checkpoint.every=250")
    assert load_checkpoint(tmp_path / "checkpoints" / "latest.pt")["runner"]["step"] == 500


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("checkpoint.keep=0", "checkpoint.keep=0 is invalid: it must be >= 1"),
        ("eval.episodes=0", "eval.episodes=0 is invalid"),
        ("total_steps=-5", "total_steps=-5 is invalid"),
        ("env.max_episode_steps=0", "env.max_episode_steps=0 is invalid"),
        ("env.kwargs.map=mazes/missing.txt", "map file mazes/missing.txt does not exist"),
        ("video.every=-1", "video.every=-1 is invalid"),
        ("seed=abc", "full_key: seed"),
    ],
)
def test_bad_values_are_named(override: str, message: str, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", override, "ui=none"]) == 2
    assert message in capsys.readouterr().err


def test_a_map_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "corridor.txt").write_text("\n.......\n.A   o.\n.......\n")
    summary = train_in_process(
        tmp_path / "run", f"env.kwargs.map={tmp_path / 'corridor.txt'}", "total_episodes=30"
    )
    assert summary["final_eval"]["return_mean"] == 100.0 and summary["final_eval"]["length_mean"] == 4.0


@pytest.mark.parametrize(
    "overrides",
    [
        ["+experiment=dqn_cartpole", "total_steps=800", "agent.learning_starts=300", "num_threads=1"],
        ["agent=reinforce", "env=CartPole-v1", "total_steps=1500"],
    ],
    ids=["dqn", "reinforce"],
)
def test_deep_agents_same_seed_same_metrics(tmp_path: Path, overrides: list[str]) -> None:
    args = [*overrides, "eval.every=500", "eval.episodes=2", "seed=7"]
    for name in ("a", "b"):
        train_in_process(tmp_path / name, *args)
    a, b = (metric_lines(tmp_path / n) for n in "ab")
    assert a == b and any("train/loss" in line for line in a)
