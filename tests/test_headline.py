"""Issue 12 item 13: supervised runs report their own headline metric (accuracy, bits per char, ...), not
"return", in the live display, the final lines, summary.json and `rlkit eval`; RL runs keep "return"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlkit.core.headline import RETURN, Headline, headline_line, headline_of
from rlkit.envs.factory import make_env
from rlkit.frontend.cli import main
from rlkit.frontend.compose import compose_config
from rlkit.frontend.ui import Snapshot
from tests.conftest import train_in_process


def cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("digits") / "run"
    overrides = ["agent=mnist_cnn", "env=digits", "total_steps=30", "num_threads=1"]
    assert main(["train", "ui=none", f"hydra.run.dir={run_dir}", *overrides]) == 0
    return run_dir


@pytest.mark.parametrize(
    "env, name, key, higher",
    [
        ("digits", "accuracy", "accuracy", True),
        ("toy_sequences", "accuracy", "accuracy", True),
        ("cifar10", "accuracy", "accuracy", True),
        ("char_text", "bits per char", "bpc", False),
        ("timeseries", "MSE", "mse", False),
        ("word2vec", "synonym recall@1", "synonym_recall_at_1", True),
    ],
)
def test_each_supervised_env_names_its_headline(env: str, name: str, key: str, higher: bool) -> None:
    extra = ["env.kwargs.num_words=3000"] if env == "word2vec" else []
    made = make_env(compose_config([f"env={env}", *extra]).env, evaluation=True)
    try:
        headline = headline_of(made)
    finally:
        made.close()
    assert (headline.name, headline.key, headline.higher_is_better) == (name, key, higher)


def test_rl_envs_keep_the_return() -> None:
    made = make_env(compose_config(["env=FrozenLake-v1"]).env, evaluation=True)
    assert headline_of(made) == RETURN
    made.close()


def test_digits_run_leads_with_accuracy(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    code, out = cli(
        capsys, "train", "ui=plain", f"hydra.run.dir={run_dir}", "agent=softmax_regression", "env=digits",
        "total_steps=20", "eval.every=10",
    )  # fmt: skip
    assert code == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    accuracy = summary["final_eval"]["accuracy"]
    assert list(summary)[0] == "headline"
    assert summary["headline"] == {
        "name": "accuracy", "key": "accuracy", "value": accuracy, "higher_is_better": True, "decimals": 3,
    }  # fmt: skip
    assert f"Final evaluation: accuracy {accuracy:.3f}" in out
    live = [ln for ln in out.splitlines() if ln.startswith("[rlkit] 20/20 steps")]
    assert live and "recent accuracy 0." in live[-1] and f"eval accuracy {accuracy:.3f}" in live[-1]
    assert "return" not in out
    evals = [json.loads(ln) for ln in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["eval/accuracy"] for r in evals if "eval/accuracy" in r][-1] == accuracy


def test_eval_command_leads_with_the_headline(digits_run: Path, capsys) -> None:
    code, out = cli(capsys, "eval", f"run={digits_run}")
    assert code == 0
    record = json.loads((digits_run / "eval.json").read_text())
    assert record["headline"]["name"] == "accuracy" and record["headline"]["value"] == record["accuracy"]
    lines = out.splitlines()
    assert "1 pass over the evaluation split" in lines[0]  # the run's own env.eval_episodes, not 10
    assert lines[1].split() == ["accuracy", f"{record['accuracy']:.4f}"]
    assert "return" not in out


def test_char_rnn_run_reports_bits_per_char(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    code, out = cli(
        capsys, "train", "ui=plain", f"hydra.run.dir={run_dir}", "agent=char_rnn", "env=char_text",
        "total_steps=4", "agent.hidden=8", "agent.num_layers=1", "num_threads=1",
    )  # fmt: skip
    assert code == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    bpc = summary["final_eval"]["bpc"]
    assert summary["headline"]["key"] == "bpc" and summary["headline"]["higher_is_better"] is False
    assert f"Final evaluation: bits per char {bpc:.3f} (perplexity " in out
    assert "recent bits per char" in out and "return" not in out


def test_rl_final_lines_are_unchanged(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    code, out = cli(capsys, "train", "ui=none", f"hydra.run.dir={run_dir}")
    assert code == 0
    assert "Final greedy evaluation (10 episodes): return 100.00 ± 0.00, mean length" in out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["headline"]["name"] == "return" and summary["headline"]["key"] == "return_mean"
    assert summary["headline"]["value"] == summary["final_eval"]["return_mean"]


def test_display_and_words() -> None:
    snap = Snapshot(step=1, episodes=0, total=2, unit="steps", sps=1.0, elapsed=1.0, return_mean=2.5,
                    eval_mean=2.42, metric="bits per char", decimals=3)  # fmt: skip
    assert "recent bits per char 2.500" in snap.stats() and "eval bits per char 2.420" in snap.stats()
    mse = Headline("MSE", "mse", higher_is_better=False, decimals=4)
    summary = {"mse": 0.5, "neg_mse": -0.5, "return_mean": 1.0}
    assert headline_line(summary, mse) == "MSE 0.5000 (neg_mse -0.5)"
    assert Headline.from_record(mse.record({"mse": 0.5})) == mse
    assert Headline.from_record(None) == RETURN


def test_best_checkpoint_follows_the_headline_direction() -> None:
    """best.pt is chosen by the task's own number: the lowest bits per char, the highest accuracy/return."""
    bpc = Headline("bits per char", "bpc", higher_is_better=False)
    runs = [
        {"bpc": 3.1, "return_mean": 0.2},
        {"bpc": 2.4, "return_mean": 0.1},
        {"bpc": 2.9, "return_mean": 0.3},
    ]
    assert max(runs, key=bpc.score)["bpc"] == 2.4  # not the run with the best return
    assert max(runs, key=RETURN.score)["return_mean"] == 0.3
    assert bpc.unscore(bpc.score(runs[1])) == 2.4 and RETURN.unscore(RETURN.score(runs[2])) == 0.3
    assert bpc.score({}) == -float("inf") and bpc.unscore(-float("inf")) is None


def test_summary_names_the_best_evaluation_in_the_headlines_units(tmp_path: Path) -> None:
    summary = train_in_process(tmp_path / "run", "agent=char_rnn", "env=char_text", "total_steps=4",
                               "agent.hidden=8", "agent.num_layers=1", "num_threads=1")  # fmt: skip
    best = summary["best_eval"]
    assert best["key"] == "bpc" and best["higher_is_better"] is False
    assert best["value"] == summary["final_eval"]["bpc"]  # one evaluation (the final one): it is the best
