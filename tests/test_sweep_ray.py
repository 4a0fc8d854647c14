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
    assert len(list(out.glob("trials/*/seed_*/events.out.tfevents.*.hparams"))) == 4  # TensorBoard's HPARAMS


def test_optuna_search_proposes_configurations_that_run_as_ordinary_trials(
    local_ray, tmp_path: Path, capsys
) -> None:
    pytest.importorskip("optuna", reason="sweep.search=optuna needs the optuna extra")
    out = tmp_path / "optuna"
    args = [
        "sweep",
        "agent=q_learning",
        "env=maze",
        "agent.alpha=loguniform(0.05,1)",
        "agent.epsilon=0.05,0.2",
    ]
    args += ["sweep.search=optuna", "sweep.samples=3", "seeds=1", "total_steps=3000", "eval.every=1500"]
    assert main([*args, "eval.episodes=2", f"out={out}", "ui=plain"]) == 0
    printed = capsys.readouterr().out
    plan = json.loads((out / "sweep.json").read_text())
    assert plan["settings"]["search"] == "optuna" and len(plan["configs"]) == 3
    for name, overrides in plan["configs"].items():  # Optuna's proposals, inside the space
        alpha, epsilon = (o.partition("=")[2] for o in overrides)
        assert 0.05 <= float(alpha) <= 1 and epsilon in ("0.05", "0.2") and name[:3] in ("00_", "01_", "02_")
        run = out / "trials" / name / "seed_0"
        assert json.loads((run / "summary.json").read_text())["steps"] == 3000
        assert list(run.glob("events.out.tfevents.*.hparams"))
        assert f"rlkit sweep: {name}/seed_0 done" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(c["config"] for c in summary["configs"]) == sorted(plan["configs"])
    assert main(["sweep", f"resume={out}", "ui=plain"]) == 0  # nothing left: no new proposals
    assert "3 of 3 trials already finished" in capsys.readouterr().out
