"""Issue 20 (supervised speed): the supervised agent does only the work whose result is used.

train/accuracy is a LazyMetric (computed for the updates the runner logs only) and the RandomStream swap
around the forward pass is skipped for models that draw nothing. The recorded values come from the code
before the change (commit 0c25ca2, same configs and seed); the same-process test compares with the eager
path bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rlkit.agents.supervised as sup
from rlkit.agents.supervised import SupervisedConfig
from rlkit.agents.supervised_models import MODELS, draws_random
from rlkit.core.lazy import LazyMetric
from tests.conftest import train_in_process

RUN = ["total_steps=120", "log_every=25", "eval.every=60", "device=cpu", "seed=3"]
SOFTMAX = ["agent=softmax_regression", "env=digits", *RUN]
AR = ["agent=ar_forecaster", "env=timeseries", *RUN]
# (step, train/loss, train/accuracy) of the train lines, and (step, eval metric) of the evaluations
SOFTMAX_TRAIN = [
    (25, 1.0363508462905884, 0.8500000238418579),
    (50, 0.654410183429718, 0.8899999856948853),
    (75, 0.6535719633102417, 0.8684210777282715),
    (100, 0.3916863203048706, 0.9399999976158142),
    (120, 0.3648472726345062, 0.9210526347160339),
]
SOFTMAX_EVAL = [(60, 0.9192200557103064), (120, 0.958217270194986)]  # 330 and 344 of the 359 test digits
AR_TRAIN = [
    (25, 0.35941416025161743),
    (50, 0.11828610301017761),
    (75, 0.07741667330265045),
    (100, 0.055954594165086746),
    (120, 0.0521991141140461),
]
AR_EVAL = [(60, 0.11960866982032115), (120, 0.05803762070931186)]


def rows(run_dir: Path) -> list[dict]:
    """metrics.jsonl without time/sps (wall-clock speed)."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "time/sps"} for line in lines]


def same(got: list[tuple], want: list[tuple], rel: float = 1e-5) -> bool:
    """Same steps and, within `rel`, the same values (float32 sums may differ across CPUs)."""
    values = [v for w in want for v in w[1:]]
    steps = [g[0] for g in got] == [w[0] for w in want]
    return steps and [v for g in got for v in g[1:]] == pytest.approx(values, rel=rel)


def test_softmax_metrics_are_the_ones_recorded_before(run_dir: Path) -> None:
    train_in_process(run_dir, *SOFTMAX)
    got = rows(run_dir)
    train = [(r["step"], r["train/loss"], r["train/accuracy"]) for r in got if "train/loss" in r]
    evals = [(r["step"], r["eval/accuracy"]) for r in got if "eval/accuracy" in r]
    assert same(train, SOFTMAX_TRAIN)
    assert evals == [(60, 330 / 359), (120, 344 / 359)] and same(evals, SOFTMAX_EVAL, rel=1e-12)
    assert [r["train/episodes"] for r in got if "train/loss" in r] == [1.0, 3.0, 5.0, 6.0, 8.0]


def test_ar_metrics_are_the_ones_recorded_before(run_dir: Path) -> None:
    train_in_process(run_dir, *AR)
    got = rows(run_dir)
    train = [(r["step"], r["train/loss"]) for r in got if "train/loss" in r]
    assert "train/accuracy" not in {k for r in got for k in r}
    assert same(train, AR_TRAIN)
    assert same([(r["step"], r["eval/mse"]) for r in got if "eval/mse" in r], AR_EVAL)


def test_lazy_and_eager_paths_write_the_same_file(tmp_path: Path, monkeypatch) -> None:
    train_in_process(tmp_path / "lazy", *SOFTMAX)
    monkeypatch.setattr(sup, "LazyMetric", lambda compute: compute())  # the eager metric of before
    monkeypatch.setattr(sup, "draws_random", lambda model: True)  # and the stream swap every step
    train_in_process(tmp_path / "eager", *SOFTMAX)
    assert rows(tmp_path / "lazy") == rows(tmp_path / "eager")


def test_accuracy_is_computed_only_for_the_logged_updates(run_dir: Path, monkeypatch) -> None:
    calls = []
    eager = sup.batch_accuracy
    monkeypatch.setattr(sup, "batch_accuracy", lambda *a: calls.append(1) or eager(*a))
    train_in_process(run_dir, *SOFTMAX)
    logged = [r for r in rows(run_dir) if "train/accuracy" in r]
    assert len(logged) == 5 and len(calls) == 5  # 120 updates, 5 log lines


def test_lazy_metric_computes_once_on_first_read() -> None:
    calls = []
    metric = LazyMetric(lambda: calls.append(1) or torch.tensor(0.25))
    assert calls == []
    assert float(metric) == 0.25 and float(metric) == 0.25 and calls == [1]
    assert repr(metric) == "LazyMetric(0.25)"


def test_batch_accuracy_counts_real_examples_with_every_entry_right() -> None:
    logits = torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]]])
    targets = torch.tensor([[1, 0], [1, 0], [0, 0]])  # example 0 all right, 1 half right, 2 padded
    assert sup.batch_accuracy(logits, targets, torch.tensor([1.0, 1.0, 0.0])) == 0.5


SHAPES = {  # model: (one example's observation shape, output shape)
    "softmax_regression": ((64,), (10,)),
    "mlp": ((64,), (10,)),
    "mnist_cnn": ((1, 8, 8), (10,)),
    "lstm_classifier": ((5, 4), (3,)),
    "ar_linear": ((6, 1), (2, 1)),
    "lstm_forecaster": ((6, 1), (2, 1)),
    "cifar_cnn": ((3, 8, 8), (10,)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_that_draw_nothing_leave_the_generator_alone(name: str) -> None:
    obs, out = SHAPES[name]
    model = MODELS[name](obs, out, SupervisedConfig(model=name, hidden=8, dropout=0.5), False).train()
    before = torch.get_rng_state()
    model(torch.as_tensor(np.random.default_rng(0).random((4, *obs), dtype=np.float32)))
    drew = not torch.equal(before, torch.get_rng_state())
    assert draws_random(model) == (name == "mnist_cnn")  # the one model with a dropout layer
    assert drew == draws_random(model)


def test_char_rnn_lazy_accuracy_is_the_eager_one(tmp_path: Path, monkeypatch) -> None:
    import rlkit.agents.char_rnn as char

    text = tmp_path / "text.txt"
    text.write_text("hello world, " * 100, encoding="utf-8")
    run = ["agent=char_rnn", "env=char_text", f"env.kwargs.path={text}", "env.kwargs.num_steps=20"]
    run += ["agent.hidden=16", "total_steps=40", "log_every=10", "eval.every=20", "device=cpu"]
    train_in_process(tmp_path / "lazy", *run)
    monkeypatch.setattr(char, "LazyMetric", lambda compute: compute())
    train_in_process(tmp_path / "eager", *run)
    lazy = rows(tmp_path / "lazy")
    assert len([r for r in lazy if "train/accuracy" in r]) == 4
    assert lazy == rows(tmp_path / "eager")
