"""`rlkit sweep` on a real two-node Ray cluster on this machine (loopback only): a head node and a worker node
of one CPU each, started with `ray start --block` and stopped by the test (by their PIDs); two trials run,
one on each node. Slow (two Ray nodes: ~1 min on a busy CPU): marked ray_cluster, run in CI."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytestmark = pytest.mark.ray_cluster

RAY = str(Path(sys.executable).with_name("ray"))
WAIT_FOR_NODES = """
import sys, time, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
deadline = time.monotonic() + 90
while sum(n["Alive"] for n in ray.nodes()) < 2 and time.monotonic() < deadline:
    time.sleep(0.5)
print(sum(n["Alive"] for n in ray.nodes()))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """`ray start --block` stops its node's processes when it gets SIGTERM."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_two_nodes_run_one_trial_each(tmp_path: Path) -> None:
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus=1", "--node-ip-address=127.0.0.1", "--block", "--disable-usage-stats"]
    head_cmd = [RAY, "start", "--head", f"--port={port}", "--include-dashboard=false", *common]
    env = {**os.environ, "RAY_AUTH_MODE": "token"}  # Ray 2.5x: token auth, the token in ~/.ray/auth_token
    subprocess.run([RAY, "get-auth-token", "--generate"], capture_output=True, check=True, timeout=60)
    nodes = []
    try:
        worker_cmd = [RAY, "start", f"--address={address}", *common]
        for name, cmd in (("head", head_cmd), ("worker", worker_cmd)):
            with open(tmp_path / f"{name}.log", "w") as log:  # the child keeps its own descriptor
                node = subprocess.Popen(
                    cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
                )
                nodes.append(node)
        wait = [sys.executable, "-c", WAIT_FOR_NODES, address]
        alive = subprocess.run(wait, capture_output=True, text=True, timeout=150, env=env)
        assert alive.stdout.strip().endswith("2"), (
            alive.stdout,
            (tmp_path / "worker.log").read_text()[-2000:],
        )
        storage, out = tmp_path / "shared", tmp_path / "shared" / "sweep"
        args = ["sweep", "agent=q_learning", "env=maze", "agent.alpha=0.1,0.5", "seeds=1", "total_steps=3000"]
        args += [f"sweep.address={address}", f"sweep.storage={storage}", f"out={out}", "ui=plain"]
        refused = subprocess.run([RAY.replace("/ray", "/rlkit"), *args[:-3], "ui=plain"], capture_output=True,
                                 text=True, timeout=120)  # fmt: skip
        assert refused.returncode == 2 and "set sweep.storage=" in refused.stderr, refused.stderr
        done = subprocess.run(
            [RAY.replace("/ray", "/rlkit"), *args], capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, done.stdout + done.stderr
        rows = list(csv.DictReader((out / "results.csv").read_text().splitlines()))
        assert [r["status"] for r in rows] == ["done", "done"]
        assert len({r["node"] for r in rows}) == 2, rows  # one trial on each node
    finally:
        for proc in reversed(nodes):
            _stop(proc)
