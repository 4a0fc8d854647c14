"""SIGTERM (`kill <pid>`, what schedulers and Ray send) stops a run as Ctrl-C does: the current step finishes,
a checkpoint is written, rlkit exits with status 143, and `resume=` continues the run exactly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlkit.core.checkpoint import Checkpointer, load_checkpoint
from rlkit.core.commands import command
from rlkit.core.interrupts import sigterm_as_ctrl_c, stop_signal
from rlkit.frontend.cli import main

from .conftest import ctrl_c_at_update, signal_after_checkpoint_writes

RLKIT = str(Path(sys.executable).parent / "rlkit")
ARGS = ["agent=q_learning", "env=maze_traps", "total_steps=5000", "checkpoint.every=0", "ui=none"]


def metric_lines(run_dir: Path) -> list[str]:
    return (run_dir / "metrics.jsonl").read_text().splitlines()


def test_sigterm_checkpoints_exits_143_and_resumes_exactly(tmp_path: Path, monkeypatch, capsys) -> None:
    from rlkit.agents.tabular import TabularAgent

    assert main(["train", *ARGS, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    before = signal.getsignal(signal.SIGTERM)
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, TabularAgent, 1234, signal.SIGTERM):  # mid-episode
        assert main(["train", *ARGS, f"hydra.run.dir={run}"]) == 143
    assert signal.getsignal(signal.SIGTERM) == before  # the handler rlkit set is gone again
    err = capsys.readouterr().err
    assert err == (
        "rlkit: terminated (SIGTERM); a checkpoint was saved at step 1,234; "
        f"continue with: {command('rlkit')} train resume={run}\n"
    )
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["runner"]["step"] == 1234
    assert not (run / "summary.json").exists()
    assert main(["train", f"resume={run}"]) == 0
    assert metric_lines(run) == metric_lines(tmp_path / "ref")


def test_kill_of_a_training_process_leaves_a_checkpoint_to_resume_from(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["agent=q_learning", "env=maze_traps", "total_steps=50000", "checkpoint.every=2000", "ui=none"]
    proc = subprocess.Popen(
        [RLKIT, "train", *args, f"hydra.run.dir={run}"], cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not list((run / "checkpoints").glob("ckpt_*.pt")):  # it trains
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)  # what `kill <pid>` sends
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, f"the run was not stopped by SIGTERM: {err}"
    step = load_checkpoint(run / "checkpoints" / "latest.pt")["runner"]["step"]
    assert 2000 <= step < 50000
    assert err.startswith(f"rlkit: terminated (SIGTERM); a checkpoint was saved at step {step:,}; ")
    assert not (run / "summary.json").exists()

    resumed = subprocess.run([RLKIT, "train", f"resume={run}", "ui=none"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 50000 and summary["resumed"]
    lines = [json.loads(line) for line in metric_lines(run)]
    steps = [line["step"] for line in lines]
    assert steps == sorted(steps)  # no line repeated from before the checkpoint
    assert sum("train/episode_return" in line for line in lines) == summary["episodes"]  # none lost


def test_sigterm_during_a_checkpoint_write_waits_for_a_consistent_set(tmp_path: Path, monkeypatch) -> None:
    ckpt = Checkpointer(tmp_path, keep=2)
    for step in (100, 200):
        ckpt.save({"runner": {"step": step}}, step)
    signal_after_checkpoint_writes(monkeypatch, signal.SIGTERM)
    with sigterm_as_ctrl_c(), pytest.raises(KeyboardInterrupt):  # delivered once the set is consistent
        ckpt.save({"runner": {"step": 300}}, 300)
    assert stop_signal() == signal.SIGTERM
    assert [p.name for p in ckpt.numbered()] == [f"ckpt_{s:012d}.pt" for s in (200, 300)]
    assert load_checkpoint(tmp_path / "latest.pt")["runner"]["step"] == 300
