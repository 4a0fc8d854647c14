"""`rlkit sweep` on a real local Ray with 2 CPUs: a 2x2 tabular sweep on the maze, one trial killed mid-run
(as `kill -9`) and retried from its last checkpoint. Ray starts once for the module (~10 s on a busy CPU)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("ray")

from rlkit.frontend import sweep_ray  # noqa: E402 (after the skip: Ray is an optional extra)
from rlkit.frontend.cli import main  # noqa: E402
from rlkit.frontend.sweep_trial import KILL_ENV  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    """A 2-CPU local Ray for the module; `rlkit sweep` joins it (and leaves it running) instead of its own."""
    started = sweep_ray.connect({"num_cpus": 2})
    yield
    sweep_ray.disconnect(started)


def test_a_2x2_sweep_finishes_and_a_killed_trial_resumes(
    local_ray, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "sweep"
    killed = "01_alpha=0.5/seed_0"
    monkeypatch.setenv(KILL_ENV, killed)  # killed once, after its first checkpoint
    args = ["sweep", "agent=q_learning", "env=maze", "agent.alpha=0.1,0.5", "seeds=2", "total_steps=20000"]
    args += ["checkpoint.every=200", "eval.every=5000", "eval.episodes=2", f"out={out}", "ui=plain"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"rlkit sweep: {killed} retrying (retry 1)" in printed
    trials = sorted(p.relative_to(out / "trials").as_posix() for p in (out / "trials").glob("*/seed_*"))
    assert trials == [
        "00_alpha=0.1/seed_0",
        "00_alpha=0.1/seed_1",
        "01_alpha=0.5/seed_0",
        "01_alpha=0.5/seed_1",
    ]
    for name in trials:  # each an ordinary, complete run directory
        run = out / "trials" / name
        assert (run / ".hydra" / "config.yaml").is_file() and (run / "checkpoints" / "latest.pt").is_file()
        summary = json.loads((run / "summary.json").read_text())
        assert summary["steps"] == 20000 and summary["resumed"] == (name == killed)
        steps = [json.loads(ln)["step"] for ln in (run / "metrics.jsonl").read_text().splitlines()]
        assert steps == sorted(steps) and steps[-1] == 20000  # the resumed run's metrics have no repeats
    log = (out / "logs" / "01_alpha=0.5" / "seed_0.log").read_text()
    commands = [ln for ln in log.splitlines() if ln.startswith("$ ")]
    assert len(commands) == 2 and "resume=" not in commands[0] and "resume=" in commands[1]
    rows = list(csv.DictReader((out / "results.csv").read_text().splitlines()))
    assert len(rows) == 4 and {r["status"] for r in rows} == {"done"} and all(r["node"] for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert [c["config"] for c in summary["configs"]] == ["00_alpha=0.1", "01_alpha=0.5"]
    assert all(c["n"] == 2 and c["iqm_ci"][0] <= c["iqm"] <= c["iqm_ci"][1] for c in summary["configs"])
    assert (out / "table.md").read_text().count("\n| 0") == 2 and (out / "curves.png").stat().st_size > 5000
