"""One trial of `rlkit sweep`, as Ray Tune runs it on a worker: an ordinary `rlkit train` in a child process.

The child trains into the trial's run directory (its own lock, .hydra/, checkpoints, summary.json), its
output goes to <sweep dir>/logs/<config>/seed_<k>.log, and its metrics.jsonl is read once a second and
reported to Tune (step, last and best evaluation). A run directory that holds checkpoints but no summary.json
(a crash, a Ctrl-C, a lost node) is continued with `rlkit train resume=`; one that crashed before its first
checkpoint is started again. A child that fails raises here, and Tune's retries (FailureConfig) call this
function again, which resumes: that is how a crashed trial continues from its last checkpoint.

The child dies with its worker (Linux: the parent-death signal is Ctrl-C's SIGINT, so it checkpoints first).
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rlkit.frontend.rundir import hydra_value

POLL_S = 1.0
KILL_ENV = (
    "RLKIT_SWEEP_KILL"  # tests: this "<config>/seed_<k>" is killed (SIGKILL) after its first checkpoint
)


def _prctl():
    """libc's prctl, looked up before any fork (the child may not import: another thread can hold a lock)."""
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except OSError:  # not Linux: a child outlives a killed worker there (its run stays resumable)
        return None


PRCTL = _prctl()


def _die_with_parent() -> None:  # pragma: no cover (runs in the child between fork and exec)
    """Linux: the child gets SIGINT (Ctrl-C: it checkpoints) when the worker that started it dies."""
    if PRCTL is not None:
        PRCTL(1, signal.SIGINT)  # PR_SET_PDEATHSIG


def read_progress(metrics: Path, key: str = "eval/return_mean", higher: bool = True) -> dict[str, Any]:
    """{'step', 'eval', 'best'} of metric `key` from a run's metrics.jsonl so far (None where nothing was
    logged; best: the lowest when `higher` is False, lower is better)."""
    step, last, best = 0, None, None
    for row in metric_rows(metrics):
        step = max(step, int(row.get("step", 0)))
        if key in row:
            last = float(row[key])
            best = last if best is None else (max if higher else min)(best, last)
    return {"step": step, "eval": last, "best": best}


def metric_rows(metrics: Path) -> Iterator[dict[str, Any]]:
    """The rows of a run's metrics.jsonl so far (none when there is no file; a line being written is left
    out)."""
    if not metrics.is_file():
        return
    for line in metrics.read_text(encoding="utf-8").splitlines():
        try:
            yield json.loads(line)
        except ValueError:
            continue


def command(run_dir: Path, overrides: list[str]) -> list[str]:
    """The `rlkit train` command line of a trial: a new run, or a resume of the one in `run_dir`."""
    base = [sys.executable, "-m", "rlkit.frontend.cli", "train"]
    if (run_dir / "summary.json").is_file() or not any((run_dir / "checkpoints").glob("*.pt")):
        if run_dir.exists() and not (run_dir / "summary.json").is_file():
            shutil.rmtree(run_dir)  # stopped before its first checkpoint: nothing to continue from
        return [*base, *overrides, f"hydra.run.dir={hydra_value(str(run_dir))}", "ui=none"]
    return [*base, f"resume={hydra_value(str(run_dir))}", "ui=none"]


def run_trial(config: dict[str, Any], report: Callable[[dict], None] | None = None) -> None:
    """Ray Tune's function trainable: trains config['overrides'] into config['run_dir'], reports progress
    (to Tune, or to `report`, which passes it on)."""
    if report is None:
        from ray import tune  # only on the worker (and imported there already by Ray)

        report = tune.report

    run_dir, log = Path(config["run_dir"]), Path(config["log"])
    node = f"{socket.gethostname()}:{os.environ.get('RAY_NODE_ID', '')[:8]}"
    try:
        import ray

        node = ray.get_runtime_context().get_node_id()[:12]
    except Exception:  # noqa: BLE001 (outside Ray: the host name is enough)
        pass
    if (run_dir / "summary.json").is_file():  # finished by an earlier attempt
        report({**_progress(run_dir, config), "node": node, "done": 1})
        return
    cmd = command(run_dir, config["overrides"])
    resumed = "resume=" in " ".join(cmd)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop(KILL_ENV, None)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        child = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
        )
        try:
            _watch(child, run_dir, config, node, resumed, report)
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)  # Ctrl-C: the run checkpoints and stops
                try:
                    child.wait(30)
                except subprocess.TimeoutExpired:
                    child.kill()
    if child.returncode != 0:
        tail = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        raise RuntimeError(f"rlkit train exited with status {child.returncode}: {tail[-1] if tail else ''}")
    report({**_progress(run_dir, config), "node": node, "done": 1})


def _progress(run_dir: Path, config: dict[str, Any]) -> dict[str, Any]:
    return read_progress(run_dir / "metrics.jsonl", config["key"], config.get("higher", True))


def _watch(
    child: subprocess.Popen, run_dir: Path, config: dict[str, Any], node: str, resumed: bool, report
) -> None:
    """Reports progress until the child ends; kills it once after its first checkpoint when the test hook
    (config['kill_once']) asks."""
    kill_marker, reported = Path(config["log"]).with_suffix(".killed"), 0.0
    while child.poll() is None:
        time.sleep(POLL_S if not config.get("kill_once") else 0.02)
        if time.monotonic() - reported >= POLL_S:
            report({**_progress(run_dir, config), "node": node, "done": 0, "resumed": int(resumed)})
            reported = time.monotonic()
        if (
            config.get("kill_once")
            and not kill_marker.exists()
            and (run_dir / "checkpoints" / "latest.pt").exists()
        ):
            kill_marker.touch()
            child.kill()  # as `kill -9`: a crash mid-run
            child.wait()
