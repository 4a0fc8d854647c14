"""`rlkit bench`: argument parsing, the table's numbers by hand, and a tiny end-to-end bench on the maze."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlkit.core.errors import UserError
from rlkit.frontend.bench import AgentSpec, main, parse_agent, parse_args, parse_list
from rlkit.frontend.bench_report import RunResult, aggregate, steps_to_threshold, table_markdown


def test_agent_lists_and_per_agent_overrides() -> None:
    assert parse_list("[dqn,sb3_dqn]") == ["dqn", "sb3_dqn"]
    assert parse_list("a,b(x=1,y=[2,3]),c") == ["a", "b(x=1,y=[2,3])", "c"]
    spec = parse_agent("sb3(agent.algo=QRDQN;as=qrdqn;agent.zoo=false)")
    assert spec == AgentSpec("qrdqn", ["agent=sb3", "agent.algo=QRDQN", "agent.zoo=false"])
    assert parse_agent("sarsa") == AgentSpec("sarsa", ["agent=sarsa"])
    agents, seeds, threshold, out, common = parse_args(
        ["agents=[q_learning,sarsa]", "env=maze", "seeds=[3,4]", "threshold=90", "total_steps=500"]
    )
    assert [a.label for a in agents] == ["q_learning", "sarsa"] and seeds == [3, 4] and threshold == 90.0
    assert out is None and common == ["env=maze", "total_steps=500"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["env=maze"], "agents=.* is required"),
        (["agents=[sarsa]"], "compare two or more"),
        (["agents=[sarsa,sarsa]"], "labels repeat"),
        (["agents=[sarsa,q_learning]", "seed=3"], "seed= is set per run"),
        (["agents=[sarsa,q_learning]", "seeds=[a]"], "seeds must be integers"),
        (["agents=[sarsa,q_learning]", "oops"], "'oops' is not key=value"),
        (["agents=[sarsa(alpha),q_learning]"], "'alpha' in 'sarsa\\(alpha\\)' is not key=value"),
    ],
)
def test_bad_arguments_fail_in_one_line(args, message) -> None:
    with pytest.raises(UserError, match=message):
        parse_args(args)


def test_steps_to_threshold_and_aggregate_by_hand() -> None:
    curve = ([100, 200, 300], [10.0, 95.0, 100.0])
    assert steps_to_threshold(curve, 90) == 200 and steps_to_threshold(curve, 101) is None
    runs = [
        RunResult("a", 0, 1000, 2.0, 100.0, 0.0, curve, "r0"),
        RunResult("b", 0, 1000, 4.0, 50.0, 0.0, ([100, 200], [0.0, 0.0]), "r1"),
        RunResult("a", 1, 1000, 2.0, 80.0, 0.0, ([100, 200], [91.0, 80.0]), "r2"),
        RunResult("b", 1, 1000, 4.0, 70.0, 0.0, ([100, 200], [0.0, 95.0]), "r3"),
    ]
    a, b = aggregate(runs, ["a", "b"], threshold=90)
    assert a["steps_per_s"] == 500.0 and b["steps_per_s"] == 250.0 and b["speed_vs_first"] == 0.5
    assert a["final_return_mean"] == 90.0 and a["final_return_std"] == 10.0
    assert a["steps_to_threshold"] == 150.0 and a["threshold_reached"] == 2  # (200 + 100) / 2
    assert b["steps_to_threshold"] == 200.0 and b["threshold_reached"] == 1


def test_bench_rows_carry_the_robust_statistics() -> None:
    runs = [
        RunResult("a", s, 100, 1.0, v, 0.0, ([100], [v]), "r") for s, v in enumerate([1.0, 2.0, 3.0, 10.0])
    ]
    runs += [
        RunResult("b", s, 100, 1.0, v, 0.0, ([100], [v]), "r") for s, v in enumerate([0.0, 2.0, 2.0, 2.0])
    ]
    a, b = aggregate(runs, ["a", "b"], threshold=None)
    assert a["final_return_iqm"] == 2.5 and a["final_return_median"] == 2.5  # mean of the middle two
    low, high = a["final_return_iqm_ci"]
    assert 1.0 <= low <= 2.5 <= high <= 10.0
    # b against a: of 16 pairs, b wins 1 (2 > 1) x 3, ties 1 (2 == 2) x 3 -> (3 + 1.5) / 16
    assert b["p_better_than_first"] == pytest.approx(4.5 / 16) and a["p_better_than_first"] == 0.5
    assert "| a | 4 |" in table_markdown([a, b], None) and "2.5 [" in table_markdown([a, b], None)


def test_tiny_bench_writes_table_results_and_plot(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench"
    args = ["agents=[q_learning,sarsa(agent.epsilon=0.2;as=sarsa_eps)]", "env=maze", "seeds=[0,1]"]
    args += ["total_steps=300", "eval.every=100", "eval.episodes=2", "threshold=50", f"out={out}"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| q_learning | 2 |" in printed and "| sarsa_eps | 2 |" in printed
    assert (out / "table.md").read_text().count("\n| ") == 3  # header and two agents
    png = (out / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
    record = json.loads((out / "results.json").read_text())
    assert [(r["label"], r["seed"]) for r in record["runs"]] == [
        ("q_learning", 0), ("sarsa_eps", 0), ("q_learning", 1), ("sarsa_eps", 1)
    ]  # fmt: skip
    assert all(r["steps"] == 300 and r["curve"][0] == [100, 200, 300] for r in record["runs"])
    # each run is a normal run directory: `rlkit eval` scores it
    from rlkit.frontend.eval_command import eval_command

    assert eval_command([f"run={out / 'sarsa_eps_seed1'}", "episodes=2"]) == 0
    assert json.loads((out / "sarsa_eps_seed1" / "eval.json").read_text())["episodes"] == 2


def test_a_bad_agent_config_fails_before_any_training(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    with pytest.raises(UserError, match="agent.alpha"):
        main(["agents=[q_learning,sarsa(agent.alpha=abc)]", "env=maze", "total_steps=50", f"out={out}"])
    assert not out.exists()


def test_a_rerun_into_the_same_out_is_refused_before_training(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    args = [
        "agents=[q_learning,sarsa]",
        "env=maze",
        "seeds=[0]",
        "total_steps=50",
        "eval.every=0",
        f"out={out}",
    ]
    assert main(args) == 0
    metrics = (out / "sarsa_seed0" / "metrics.jsonl").read_text()
    with pytest.raises(UserError, match="already holds a run"):
        main(args)
    assert (out / "sarsa_seed0" / "metrics.jsonl").read_text() == metrics


def test_speed_is_not_compared_against_a_contestant_whose_runs_all_failed() -> None:
    runs = [
        RunResult("a", 0, 0, 0.5, float("nan"), 0.0, ([], []), "r0", error="diverged"),
        RunResult("b", 0, 1000, 4.0, 50.0, 0.0, ([100], [50.0]), "r1"),
    ]
    a, b = aggregate(runs, ["a", "b"], threshold=None)
    assert a["speed_vs_first"] is None and b["speed_vs_first"] is None
    table = table_markdown([a, b], None)
    assert "| b | 1 | 250 | n/a |" in table and "x |" not in table.split("\n", 2)[2]
