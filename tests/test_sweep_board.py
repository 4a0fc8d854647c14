"""`rlkit sweep` and TensorBoard's HPARAMS tab, and the live table's headline metric (Ray faked)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from rlkit.core.headline import Headline
from rlkit.frontend import sweep_ray
from rlkit.frontend.cli import main
from rlkit.frontend.sweep_board import final_and_best, task_headline
from rlkit.frontend.sweep_plan import Plan, Trial, trial_dir
from rlkit.frontend.sweep_table import SweepTable
from rlkit.frontend.sweep_trial import read_progress
from tests.conftest import train_in_process


def _hparams_runs(logdir: Path) -> dict[str, dict]:
    """What TensorBoard's hparams plugin reads: run -> {'hparams', 'metrics', 'final', 'best'}."""
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.util import tensor_util

    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    out = {}
    for run, tags in mux.PluginRunToTagToContent("hparams").items():
        data = {}
        for tag, content in tags.items():
            parsed = plugin_data_pb2.HParamsPluginData.FromString(content)
            if tag == "_hparams_/session_start_info":
                hp = parsed.session_start_info.hparams
                data["hparams"] = {k: v.number_value if v.HasField("number_value") else v.string_value
                                   for k, v in hp.items()}  # fmt: skip
                data["group"] = parsed.session_start_info.group_name
            elif tag == "_hparams_/experiment":
                data["metrics"] = [m.name.tag for m in parsed.experiment.metric_infos]
                data["names"] = [h.name for h in parsed.experiment.hparam_infos]
        scalars = mux.PluginRunToTagToContent("scalars").get(run, {})
        for tag in ("sweep/final", "sweep/best"):
            if tag in scalars:
                data[tag] = float(tensor_util.make_ndarray(mux.Tensors(run, tag)[-1].tensor_proto))
        out[run] = data
    return out


def test_every_finished_trial_shows_in_tensorboards_hparams_tab(tmp_path, monkeypatch, capsys) -> None:
    done_events: list[str] = []

    def fake_run(sweep_dir, trials, settings, table, headline):
        assert headline.key == "return_mean"  # maze: an RL task, judged by its return
        for trial in trials:
            table.event(trial.name, "running")
            train_in_process(trial_dir(sweep_dir, trial), *trial.overrides)
            table.event(trial.name, "done", {"step": 400, "eval": 0.5, "best": 0.5})
            done_events.append(trial.name)
            assert list(trial_dir(sweep_dir, trial).glob("events.out.tfevents.*.hparams"))  # at once
        return {}

    monkeypatch.setattr(sweep_ray, "connect", lambda settings: False)
    monkeypatch.setattr(sweep_ray, "run", fake_run)
    out = tmp_path / "sw"
    args = ["sweep", "agent.alpha=0.1,0.5", "seeds=2", "total_steps=400", "eval.every=200", "eval.episodes=2"]
    assert main([*args, f"out={out}", "ui=none"]) == 0
    assert "HPARAMS" in capsys.readouterr().out
    runs = _hparams_runs(out)  # TensorBoard over the whole sweep dir
    plan = Plan.load(out)
    assert len(runs) == len(plan.trials()) == 4 == len(done_events)
    for trial in plan.trials():
        run_dir = trial_dir(out, trial)
        data = runs[str(run_dir.relative_to(out))]
        alpha = float(plan.configs[trial.config][0].partition("=")[2])
        assert data["hparams"] == {"agent.alpha": alpha, "seed": float(trial.seed)}
        assert data["metrics"] == ["sweep/final", "sweep/best"] and data["names"] == ["agent.alpha", "seed"]
        evals = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        evals = [row["eval/return_mean"] for row in evals if "eval/return_mean" in row]
        assert len(evals) >= 2  # two periodic evaluations (and the final one)
        assert data["sweep/final"] == float(np.float32(evals[-1]))
        assert data["sweep/best"] == float(np.float32(max(evals)))
    files = {p.name for p in out.rglob("events.out.tfevents.*.hparams")}
    assert main(["sweep", f"resume={out}", "ui=none"]) == 0  # nothing left: no second hparams file
    assert {p.name for p in out.rglob("events.out.tfevents.*.hparams")} == files


def test_best_follows_the_metrics_direction(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    rows = [{"step": 100, "eval/mse": 0.5}, {"step": 150, "train/loss": 1.0}, {"step": 200, "eval/mse": 0.2},
            {"step": 300, "eval/mse": 0.3}]  # fmt: skip
    metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
    mse = Headline("MSE", "mse", higher_is_better=False)
    assert final_and_best(metrics, mse) == (0.3, 0.2, 300)
    assert final_and_best(metrics, Headline("x", "mse")) == (0.3, 0.5, 300)
    assert read_progress(metrics, "eval/mse", higher=False) == {"step": 300, "eval": 0.3, "best": 0.2}
    assert read_progress(metrics, "eval/mse") == {"step": 300, "eval": 0.3, "best": 0.5}
    assert final_and_best(tmp_path / "missing.jsonl", mse) == (None, None, 0)


def test_live_table_names_the_tasks_metric_and_its_eta(monkeypatch) -> None:
    assert task_headline(["env=timeseries"]).name == "MSE"
    assert task_headline([]).name == "return"
    trials = [Trial("00_a=1", 0, [])]
    out = io.StringIO()
    table = SweepTable(trials, "plain", total_steps=1000, stream=out, metric="MSE")
    clock = [10.0]
    monkeypatch.setattr("rlkit.frontend.sweep_table.time", SimpleNamespace(monotonic=lambda: clock[0]))
    table.event("00_a=1/seed_0", "running")  # started at t=10
    table.event("00_a=1/seed_0", None, {"step": 250, "eval": 0.25, "best": 0.2})
    assert out.getvalue().splitlines()[-1] == "rlkit sweep: 00_a=1/seed_0 running step 250 MSE 0.25 best 0.20"
    clock[0] = 30.0
    assert table.eta(table.rows["00_a=1/seed_0"]) == "60 s"  # 20 s for 250 steps: 750 left
    rich = io.StringIO()
    live = SweepTable(trials, "rich", total_steps=1000, stream=rich, metric="MSE")
    live.start()
    live.stop()
    assert "best MSE" in rich.getvalue()


def test_optuna_search_bad_input_fails_in_one_line(capsys) -> None:
    from tests.conftest import one_line_error

    assert "valid: grid, random, optuna" in one_line_error(capsys, ["sweep", "sweep.search=bayes"])
    assert "needs an axis" in one_line_error(capsys, ["sweep", "sweep.search=optuna", "total_steps=10"])
    err = one_line_error(capsys, ["sweep", "sweep.search=optuna", "agent.alpha=loguniform(0,1)"])
    assert "loguniform(0,1) needs two numbers a < b" in err
