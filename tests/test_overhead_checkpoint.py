"""Issue 20, round 2: checkpoints written in the background, and the one-env tabular path.

Background writes must give the files a foreground write gives, hold the state as it was when save()
returned, report a failed write at the next use, and leave the previous checkpoint intact when the process is
killed in the middle of one. The tabular one-env path must compute what the code before it computed
(metrics.jsonl recorded from commit 8a6873e, before this round; the file is the same on every machine).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import rlkit.core.checkpoint as checkpoint
from rlkit.core.checkpoint import Checkpointer, CheckpointError, load_checkpoint
from tests.conftest import train_in_process


def test_a_background_save_writes_the_file_a_foreground_save_writes(tmp_path: Path) -> None:
    state = {"agent": {"w": torch.arange(6.0)}, "runner": {"step": 7}}
    fore, back = Checkpointer(tmp_path / "fore", keep=2), Checkpointer(tmp_path / "back", keep=2)
    for step in (100, 200, 300):
        fore.save(state, step)
        back.save(state, step, background=True)
    back.save_best(state, background=True)
    back.wait()
    names = ["ckpt_000000000200.pt", "ckpt_000000000300.pt"]
    assert [p.name for p in back.numbered()] == [p.name for p in fore.numbered()] == names
    for name in [*names, "latest.pt"]:
        assert (tmp_path / "back" / name).read_bytes() == (tmp_path / "fore" / name).read_bytes()
    assert load_checkpoint(tmp_path / "back" / "best.pt")["runner"]["step"] == 7
    back.close()


def test_a_background_save_keeps_the_state_as_it_was_when_save_returned(tmp_path: Path) -> None:
    weights = torch.zeros(3)
    ckpt = Checkpointer(tmp_path)
    ckpt.save({"agent": {"w": weights}, "runner": {"step": 1}}, 1, background=True)
    weights += 5.0  # training goes on while the writer thread writes
    state, _ = ckpt.load_latest()  # waits for the write
    assert state["agent"]["w"].tolist() == [0.0, 0.0, 0.0]
    ckpt.close()


def test_a_failed_background_write_is_raised_at_the_next_save(tmp_path: Path, monkeypatch) -> None:
    ckpt = Checkpointer(tmp_path)
    ckpt.save({"runner": {"step": 1}}, 1)

    def full_disk(path, data):
        raise CheckpointError(f"could not write checkpoint {path}: No space left on device")

    monkeypatch.setattr(checkpoint, "_atomic_write", full_disk)
    ckpt.save({"runner": {"step": 2}}, 2, background=True)  # returns: the writer thread fails
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="No space left on device"):
        ckpt.save({"runner": {"step": 3}}, 3)
    assert load_checkpoint(tmp_path / "latest.pt")["runner"]["step"] == 1  # the previous one is kept
    ckpt.save({"runner": {"step": 3}}, 3)  # the error was reported once
    assert load_checkpoint(tmp_path / "latest.pt")["runner"]["step"] == 3


def test_a_kill_during_a_background_write_leaves_the_last_checkpoint(tmp_path: Path) -> None:
    script = (
        "import os, signal, sys, time\n"
        "from pathlib import Path\n"
        "from rlkit.core.checkpoint import Checkpointer\n"
        "ckpt = Checkpointer(Path(sys.argv[1]))\n"
        "ckpt.save({'runner': {'step': 100}}, 100)\n"
        "os.fsync = lambda fd: time.sleep(30)  # the writer thread is now stuck inside its write\n"
        "ckpt.save({'runner': {'step': 200}}, 200, background=True)\n"
        "time.sleep(0.5)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, timeout=60)
    assert proc.returncode == -9
    state, path = Checkpointer(tmp_path).load_latest()
    assert state["runner"]["step"] == 100 and path.name == "latest.pt"
    assert not (tmp_path / "ckpt_000000000200.pt").exists()  # only a temporary file, never half a checkpoint


@pytest.mark.parametrize(
    "agent, count, sha256",
    [
        ("q_learning", 474, "9f5e79f23953a3222754952e0638957dee253f550650af97d820ee443c9b2459"),
        ("sarsa", 364, "a64c9d4e3f88878e65e541d8fc27a39d720bdf66dc58308961589debab65e42e"),
        ("expected_sarsa", 474, "590cc8adde4b0cf2a74811afc0f0356fc1fe7e0237941f30a1563f8e5297f10a"),
    ],
)
def test_one_env_tabular_runs_with_background_checkpoints_are_the_ones_recorded_before(
    run_dir: Path, agent: str, count: int, sha256: str
) -> None:
    overrides = ["env=FrozenLake-v1", "total_steps=3000", "eval.every=1000", "checkpoint.every=500"]
    train_in_process(run_dir, f"agent={agent}", *overrides)
    text = (run_dir / "metrics.jsonl").read_text()
    assert len(text.splitlines()) == count
    assert hashlib.sha256(text.encode()).hexdigest() == sha256
    ckpts = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert ckpts == ["best.pt", *(f"ckpt_{s:012d}.pt" for s in (2000, 2500, 3000)), "latest.pt"]
    assert os.path.samefile(run_dir / "checkpoints" / "latest.pt", run_dir / "checkpoints" / ckpts[3])
    assert load_checkpoint(run_dir / "checkpoints" / "latest.pt")["runner"]["step"] == 3000
