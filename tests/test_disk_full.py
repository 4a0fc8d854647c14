"""Issue 12 item 4: a full disk (or any failed write) ends a run with one line, whole metric lines and a
resumable run directory; every writer (metrics, TensorBoard, summary, videos, plots) fails the same way."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rlkit.core.errors import UserError

DEV_FULL = Path("/dev/full")  # every write to it fails with ENOSPC
needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full (Linux)")


def _limit_file_size(limit: int):
    def pre() -> None:  # writes past `limit` bytes fail (EFBIG), as on a full disk, instead of killing
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


def test_a_write_failing_mid_run_stops_with_one_line_and_the_run_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "rlkit.frontend.cli", "train", f"hydra.run.dir={run}", "ui=none"]
    args = ["total_steps=20000", "checkpoint.every=1000"]
    out = subprocess.run(
        cmd + args, preexec_fn=_limit_file_size(20_000), capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rlkit: error: could not write"), out.stderr
    assert f"resume={run}" in lines[0]
    for line in (run / "metrics.jsonl").read_text().splitlines():  # no half-written last line
        json.loads(line)
    assert (run / "checkpoints" / "latest.pt").is_file()

    resume = [sys.executable, "-m", "rlkit.frontend.cli", "train", f"resume={run}", "ui=none"]
    resumed = subprocess.run(resume, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run / "summary.json").read_text())["steps"] == 20000


@needs_dev_full
def test_metrics_writer_fails_cleanly_and_closes_quietly() -> None:
    from rlkit.core.loggers import JsonlLogger

    jsonl = JsonlLogger(DEV_FULL)
    jsonl.log({"train/episode_return": 1.0}, 1)
    with pytest.raises(UserError, match="could not write /dev/full: No space left on device"):
        jsonl.flush()
    jsonl.close()  # no second error


@needs_dev_full
def test_summary_video_and_plot_writers_fail_with_one_line() -> None:
    from rlkit.core.diskio import write_text
    from rlkit.frontend.plots import plot_learning_curves
    from rlkit.frontend.video import write_gif

    with pytest.raises(UserError, match="could not write /dev/full: No space left on device"):
        write_text(DEV_FULL, "{}")
    frames = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    with pytest.raises(UserError, match="could not write /dev/full: No space left on device"):
        write_gif(DEV_FULL, frames, 10)
    with pytest.raises(UserError, match="could not write /dev/full"):
        plot_learning_curves({"a": [([1, 2], [0.0, 1.0])]}, DEV_FULL, "t", None)
