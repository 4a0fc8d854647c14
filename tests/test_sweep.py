"""`rlkit sweep` without Ray: plans (grid, random), names, bad input, the report's numbers, resuming."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import signal
import time
from pathlib import Path

import pytest

from rlkit.frontend import sweep_ray
from rlkit.frontend.cli import main
from rlkit.frontend.sweep_plan import Plan, config_name, finished, make_plan, trial_dir
from rlkit.frontend.sweep_report import summarize
from tests.conftest import one_line_error, train_in_process


def test_grid_expansion_naming_and_trial_directories(tmp_path: Path) -> None:
    plan, opts = make_plan(
        ["agent=q_learning", "agent.alpha=0.1,0.5", "agent.epsilon=0.05,0.2", "seeds=2", "total_steps=300"]
    )
    assert list(plan.configs) == [
        "00_alpha=0.1_epsilon=0.05",
        "01_alpha=0.1_epsilon=0.2",
        "02_alpha=0.5_epsilon=0.05",
        "03_alpha=0.5_epsilon=0.2",
    ]
    assert plan.common == ["agent=q_learning", "total_steps=300"] and plan.seeds == [0, 1]
    trials = plan.trials()
    assert len(trials) == 8 and trials[0].name == "00_alpha=0.1_epsilon=0.05/seed_0"
    expected = ["agent=q_learning", "total_steps=300", "agent.alpha=0.1", "agent.epsilon=0.2", "seed=0"]
    assert trials[1].overrides == expected
    assert trial_dir(tmp_path, trials[-1]) == tmp_path / "trials" / "03_alpha=0.5_epsilon=0.2" / "seed_1"
    assert config_name(3, ["env.kwargs.map=[a b]", "x.y=c/d"]) == "03_map=-a-b-_y=c-d"  # safe folder names
    assert config_name(0, []) == "00_default"
    assert make_plan(["env=maze", "seeds=[3,7]"])[0].seeds == [3, 7]
    lists = make_plan(["env.kwargs.map=[a,b]", "seeds=1"])[0]
    assert lists.configs == {"00_default": []} and lists.common == [
        "env.kwargs.map=[a,b]"
    ]  # a list, not a grid


def test_random_search_draws_inside_its_ranges_and_repeats_itself() -> None:
    args = ["agent.alpha=loguniform(1e-3,1e-1)", "agent.epsilon=uniform(0.1,0.3)", "agent.gamma=0.9,0.99",
            "num_envs=randint(1,3)", "sweep.search=random", "sweep.samples=20", "seeds=1"]  # fmt: skip
    plan = make_plan(args)[0]
    assert len(plan.configs) == 20
    values = [dict(o.split("=") for o in over) for over in plan.configs.values()]
    assert all(
        1e-3 <= float(v["agent.alpha"]) <= 0.1 and 0.1 <= float(v["agent.epsilon"]) <= 0.3 for v in values
    )
    assert {v["agent.gamma"] for v in values} == {"0.9", "0.99"} and {v["num_envs"] for v in values} == {
        "1",
        "2",
    }
    logs = sorted(math.log10(float(v["agent.alpha"])) for v in values)
    assert logs[0] < -2.3 and logs[-1] > -1.7  # log-uniform: spread over both decades
    assert make_plan(args)[0].configs == plan.configs  # the same plan every time
    assert make_plan([*args, "sweep.seed=1"])[0].configs != plan.configs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep.serach=random"], "unknown setting sweep.serach; valid: sweep.search"),
        (["seed=3"], "seed= is set per trial"),
        (["seeds=[]"], "seeds=\\[\\] is empty"),
        (["seeds=two"], "give a count"),
        (["sweep.search=bayes"], "valid: grid, random"),
        (["agent.alpha=uniform(0,1)"], "is a distribution; add sweep.search=random"),
        (["agent.alpha=loguniform(0,1)", "sweep.search=random"], "a > 0 for loguniform"),
        (["agent=q_learning,sarsaa"], "unknown agent 'sarsaa'"),
        (["agent.alpha=0.1,abc"], "agent.alpha=abc"),
        (["resume=/nonexistent/sweep"], "not a sweep directory"),
    ],
)
def test_bad_sweep_arguments_fail_in_one_line(capsys, args, message) -> None:
    import re

    assert re.search(message, one_line_error(capsys, ["sweep", *args]))


def test_summary_numbers_by_hand() -> None:
    plan = Plan(["x"], [], {"a": ["k=1"], "b": ["k=2"]}, [0, 1, 2, 3])
    scores = {"a": [1.0, 2.0, 3.0, 10.0], "b": [4.0, 4.0, 5.0, 6.0]}
    records = [{"config": c, "score": v} for c, vs in scores.items() for v in vs]
    from rlkit.core.headline import RETURN, Headline

    s = summarize(plan, records, RETURN)
    a, b = s["configs"]
    assert (a["n"], a["mean"], a["median"], a["iqm"]) == (4, 4.0, 2.5, 2.5)
    assert s["best"] == "b" and b["iqm"] == 4.5 and b["p_best_better"] == 0.5
    assert a["p_best_better"] == pytest.approx(12 / 16)  # b beats a in 12 of 16 pairs (4,5,6 > 1,2,3)
    assert s["probability_of_improvement"]["a"]["b"] == pytest.approx(4 / 16)
    lower = summarize(plan, records, Headline("mse", "mse", higher_is_better=False))
    assert lower["best"] == "a" and lower["configs"][1]["p_best_better"] == pytest.approx(12 / 16)


def test_interrupted_sweep_resumes_without_rerunning_finished_trials(tmp_path, monkeypatch, capsys) -> None:
    """Ray replaced by in-process training: Ctrl-C after 3 of 4 trials, then resume= runs only the 4th."""
    ran: list[str] = []

    def fake_run(sweep_dir, trials, settings, table, key, stop_after=None):
        for i, trial in enumerate(trials):
            if stop_after is not None and i == stop_after:
                raise KeyboardInterrupt
            ran.append(trial.name)
            table.event(trial.name, "running")
            train_in_process(trial_dir(sweep_dir, trial), *trial.overrides, "eval.every=100")
            table.event(trial.name, "done", {"step": 300, "eval": 1.0, "best": 1.0, "node": "n1"})
        return {}

    monkeypatch.setattr(sweep_ray, "connect", lambda settings: False)
    monkeypatch.setattr(sweep_ray, "run", lambda *a: fake_run(*a, stop_after=3))
    out = tmp_path / "sw"
    args = [
        "sweep",
        "agent.alpha=0.1,0.5",
        "seeds=2",
        "total_steps=300",
        "eval.episodes=2",
        f"out={out}",
        "ui=plain",
    ]
    assert main(args) == 130
    err = capsys.readouterr().err
    resume = re.search(r"Continue with: \S*rlkit sweep resume=(\S+)", err)  # the path as the cwd spells it
    assert resume and (Path.cwd() / resume.group(1)).resolve() == Path(out).resolve()
    plan = Plan.load(out)
    assert [finished(out, t) for t in plan.trials()] == [True, True, True, False]
    monkeypatch.setattr(sweep_ray, "run", fake_run)
    assert main(["sweep", f"resume={out}", "ui=plain"]) == 0
    assert ran == [t.name for t in plan.trials()]  # each trial once: the finished three were not run again

    printed = capsys.readouterr().out
    assert "3 of 4 trials already finished" in printed and "| 00_alpha=0.1" in printed
    rows = list(csv.DictReader((out / "results.csv").read_text().splitlines()))
    assert [r["status"] for r in rows] == ["done"] * 4 and {r["node"] for r in rows} == {"n1"}
    summary = json.loads((out / "summary.json").read_text())
    assert [c["n"] for c in summary["configs"]] == [2, 2] and summary["trials"]["done"] == 4
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG")
    assert main(["sweep", f"resume={out}", "ui=none"]) == 0 and len(ran) == 4  # all done: nothing runs


def test_live_table_plain_lines_and_rich_rows() -> None:
    import io

    from rlkit.frontend.sweep_plan import Trial
    from rlkit.frontend.sweep_table import SweepTable

    trials = [Trial("00_a=1", 0, []), Trial("00_a=1", 1, [])]
    out = io.StringIO()
    table = SweepTable(trials, "plain", total_steps=1000, stream=out)
    table.event("00_a=1/seed_0", "running")
    table.event("00_a=1/seed_0", None, {"step": 500, "eval": 3.0, "best": 4.0, "node": "n1"})
    table.event(
        "00_a=1/seed_0", None, {"step": 600, "eval": 3.0, "best": 4.0, "node": "n1"}
    )  # no news: no line
    table.event("00_a=1/seed_0", "retrying")
    assert out.getvalue().splitlines() == [
        "rlkit sweep: 00_a=1/seed_0 running step 0 return - best -",
        "rlkit sweep: 00_a=1/seed_0 running step 500 return 3.00 best 4.00 node n1",
        "rlkit sweep: 00_a=1/seed_0 retrying (retry 1) step 600 return 3.00 best 4.00 node n1",
    ]
    rich = io.StringIO()
    live = SweepTable(trials, "rich", total_steps=1000, stream=rich)
    live.start()
    live.event("00_a=1/seed_1", "done", {"step": 1000, "eval": 5.0, "best": 5.0, "node": "n2"})
    live.stop()
    text = rich.getvalue()
    assert "1 pending, 1 done" in text and "5.00" in text and "n2" in text
    assert SweepTable(trials, "none", stream=io.StringIO()).mode == "none"


def test_reeval_seeds_retrain_the_best_configuration_on_fresh_seeds(tmp_path, monkeypatch, capsys) -> None:
    asked: list[list[str]] = []

    def fake_run(sweep_dir, trials, settings, table, key):
        asked.append([t.name for t in trials])
        for trial in trials:
            train_in_process(trial_dir(sweep_dir, trial), *trial.overrides)
        return {}

    monkeypatch.setattr(sweep_ray, "connect", lambda settings: False)
    monkeypatch.setattr(sweep_ray, "run", fake_run)
    out = tmp_path / "sw"
    args = [
        "sweep",
        "agent.alpha=0.01,0.5",
        "seeds=2",
        "total_steps=300",
        "eval.episodes=2",
        "eval.every=300",
    ]
    assert main([*args, "sweep.reeval_seeds=2", f"out={out}", "ui=none"]) == 0
    best = json.loads((out / "summary.json").read_text())["configs"][:2]
    winner = max(best, key=lambda c: c["iqm"])["config"]  # (a tie keeps the first)
    assert asked[1] == [
        f"reeval_{winner}/seed_2",
        f"reeval_{winner}/seed_3",
    ]  # unused seeds, after the 4 trials
    summary = json.loads((out / "summary.json").read_text())
    assert [c["config"] for c in summary["configs"]][-1] == f"reeval_{winner}"
    assert summary["configs"][-1]["n"] == 2 and summary["trials"]["done"] == 6
    assert Plan.load(out).fresh == {f"reeval_{winner}": [2, 3]}


def test_a_sweep_stopped_by_sigterm_exits_143(tmp_path, monkeypatch, capsys) -> None:
    def killed_run(*args):
        os.kill(os.getpid(), signal.SIGTERM)  # what `kill <pid>` sends: handled as Ctrl-C
        time.sleep(5)  # the handler raises KeyboardInterrupt here
        return {}

    monkeypatch.setattr(sweep_ray, "connect", lambda settings: False)
    monkeypatch.setattr(sweep_ray, "run", killed_run)
    args = ["sweep", "agent.alpha=0.1,0.5", "total_steps=100", f"out={tmp_path / 'sw'}", "ui=plain"]
    assert main(args) == 143
    assert "rlkit sweep: terminated (SIGTERM); finished trials are kept" in capsys.readouterr().err
