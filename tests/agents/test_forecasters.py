"""Forecasting models under the supervised agent: AR and LSTM learn the book's series; the plot is drawn."""

from __future__ import annotations

import json

import torch

from rlkit.agents.supervised_models import LSTMForecaster, ar_linear
from rlkit.envs.factory import make_env
from rlkit.envs.timeseries import forecast_png
from rlkit.frontend.compose import compose_config

from ..conftest import trained_runner

FAST = ("ui=none", "num_threads=1", "checkpoint.every=0", "env=timeseries")


def test_model_shapes_and_shift_equivariance() -> None:
    torch.manual_seed(0)
    ar = ar_linear((30, 1), (10, 1), None, False)
    assert ar(torch.zeros(4, 30, 1)).shape == (4, 10, 1)
    lstm = LSTMForecaster(features=5, hidden=8, out_shape=(4, 5))
    x = torch.randn(2, 12, 5)
    # the LSTM sees the window relative to its last value: shifting the input shifts the forecast
    torch.testing.assert_close(lstm(x + 3.0), lstm(x) + 3.0)


def test_ar_forecaster_learns_the_sine_trend(run_dir) -> None:
    runner = trained_runner(run_dir, *FAST, "agent=ar_forecaster", "total_steps=600")
    assert runner.final_eval.metrics["mse"] < 0.1  # the noise alone gives 0.0133; predicting 0 gives ~25
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert any("train/loss" in r for r in rows) and any("eval/mse" in r for r in rows)


def test_lstm_forecaster_on_five_variables_and_plot(run_dir, tmp_path) -> None:
    overrides = (*FAST, "agent=lstm_forecaster", "agent.hidden=16", "env.kwargs.series=multivariate")
    runner = trained_runner(run_dir, *overrides, "env.kwargs.length=300", "total_steps=150")
    assert runner.final_eval.metrics["mse"] < 1.0  # the variables swing by +-1 around offsets 0-4
    env = make_env(compose_config([*overrides, "env.kwargs.length=300"]).env, evaluation=True)
    path = forecast_png(runner.agent, env, tmp_path / "forecast.png", horizon=40)
    assert path.stat().st_size > 1000
