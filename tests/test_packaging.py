"""The built wheel holds rlkit, rlkit.envs, rlkit.agents and the configs, and its console script runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contents_and_console_script(tmp_path: Path) -> None:
    src = tmp_path / "src"  # build from a copy, so the build leaves nothing in the checkout
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("rlkit", "envs", "agents", "configs"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip"]
    wheel_cmd = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(src)]
    subprocess.run(wheel_cmd, check=True, capture_output=True)
    (wheel,) = tmp_path.glob("rlkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "rlkit/frontend/cli.py", "rlkit/core/runner.py", "rlkit/envs/__init__.py", "rlkit/envs/maze.py",
        "rlkit/agents/__init__.py", "rlkit/agents/tabular.py", "rlkit/configs/train.yaml",
        "rlkit/configs/agent/q_learning.yaml", "rlkit/configs/env/maze.yaml",
        "rlkit/configs/experiment/book_sarsa.yaml",
        "rlkit/envs/data/tinyshakespeare_excerpt.txt",
    ):  # fmt: skip
        assert name in names, name
    assert not any(
        n.startswith(("envs/", "agents/", "configs/", "tests/")) for n in names
    )  # only under rlkit/

    prefix = tmp_path / "prefix"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--ignore-installed",
            "-q",
            "--prefix",
            str(prefix),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    site = next(prefix.glob("lib/python*/site-packages"))
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import rlkit.envs, rlkit.agents; print(rlkit.__file__)"],
        env=env, capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(site))  # imported from the wheel, not the checkout
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [str(prefix / "bin" / "rlkit"), "train", "total_episodes=20", "ui=none", f"hydra.run.dir={run_dir}"],
        env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "q_learning on maze: 20 episodes" in proc.stdout and (run_dir / "summary.json").is_file()
