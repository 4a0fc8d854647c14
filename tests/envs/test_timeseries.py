"""Time-series forecasting task: series and windows by hand, CSV files and their errors, the env, the plot."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlkit.envs  # noqa: F401  (registers the ids)
from rlkit.core.errors import UserError
from rlkit.envs.timeseries import (
    forecast,
    forecast_png,
    forecast_windows,
    read_csv_series,
    split_starts,
    synthetic_series,
)


class PersistenceAgent:
    """Forecasts the window's last value for every future step."""

    def __init__(self, horizon: int):
        self.horizon = horizon

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        return np.repeat(obs[:, :, -1:, :], self.horizon, axis=2)


def test_book_series_by_hand() -> None:
    y = synthetic_series("sine_trend", 1000, np.random.default_rng(0))
    noise = np.random.default_rng(0).uniform(-0.2, 0.2, 1000)
    x = np.arange(1000)
    np.testing.assert_allclose(y[:, 0], np.sin(np.pi * x / 100) + x / 200 + noise, atol=1e-5)
    assert synthetic_series("multivariate", 50, np.random.default_rng(0)).shape == (50, 5)
    assert synthetic_series("sines", 50, np.random.default_rng(0)).dtype == np.float32


def test_windows_and_splits_by_hand() -> None:
    assert split_starts(20, 3, 2, 16, "train").tolist() == list(range(12))  # last target index 15
    assert split_starts(20, 3, 2, 16, "test").tolist() == [13, 15]  # forecasts 16-17 and 18-19
    series = np.arange(10, dtype=np.float32)[:, None]
    x, y = forecast_windows(series, 3, 2, np.array([0, 4]))
    assert x[:, :, 0].tolist() == [[0, 1, 2], [4, 5, 6]]
    assert y[:, :, 0].tolist() == [[3, 4], [7, 8]]


def test_csv_reader(tmp_path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("time,a,b\n0,1.5,2\n1,2.5,3\n\n2,3.5,4\n", encoding="utf-8")
    np.testing.assert_array_equal(read_csv_series(path), [[1.5, 2], [2.5, 3], [3.5, 4]])
    with pytest.raises(UserError, match=r"nope\.csv not found.*column 0 the time"):
        read_csv_series(tmp_path / "nope.csv")
    path.write_text("0,1\n1,x\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"s\.csv, line 2: '1,x' is not numeric"):
        read_csv_series(path)
    path.write_text("0,1\n1,2,3\n", encoding="utf-8")
    with pytest.raises(UserError, match="unequal length"):
        read_csv_series(path)
    path.write_text("0\n1\n", encoding="utf-8")
    with pytest.raises(UserError, match="fewer than 2 columns"):
        read_csv_series(path)


def test_env_contract_and_test_split_scores_every_tail_value(tmp_path) -> None:
    env = gym.make("rlkit/TimeSeries-v0", length=200, input_window=10, output_window=5, batch_size=8)
    check_env(env.unwrapped)
    test = gym.make("rlkit/TimeSeries-v0", length=200, input_window=10, output_window=5, split="test")
    obs, _ = test.reset(seed=0)
    assert obs.shape == (16, 10, 1)
    scored, done = 0.0, False
    while not done:
        _, reward, done, _, info = test.step(info_targets := test.unwrapped._target())
        assert info["metrics"]["mse"] == 0.0 and reward == 0.0  # a perfect forecast
        np.testing.assert_array_equal(info["targets"], info_targets)
        scored += info["metrics"]["count"] * 5
    assert scored == 40  # the tail: the last 20% of 200 points, each once


def test_csv_env_with_five_variables(tmp_path) -> None:
    rows = np.column_stack([np.arange(120), synthetic_series("multivariate", 120, np.random.default_rng(1))])
    path = tmp_path / "multi.csv"
    np.savetxt(path, rows, delimiter=",")
    env = gym.make("rlkit/TimeSeries-v0", path=str(path), input_window=8, output_window=4)
    assert env.observation_space.shape == (16, 8, 5) and env.action_space.shape == (16, 4, 5)
    with pytest.raises(UserError, match="too short"):
        gym.make("rlkit/TimeSeries-v0", path=str(path), input_window=100)
    with pytest.raises(UserError, match="env.kwargs.series"):
        gym.make("rlkit/TimeSeries-v0", series="nope")


def test_forecast_feeds_back_and_plot(tmp_path) -> None:
    env = gym.make("rlkit/TimeSeries-v0", length=100, input_window=10, output_window=5)
    history = np.arange(20, dtype=np.float32)[:, None]
    ahead = forecast(PersistenceAgent(5), env, history, horizon=12)
    np.testing.assert_array_equal(ahead[:, 0], np.full(12, 19.0))
    path = forecast_png(PersistenceAgent(5), env, tmp_path / "run" / "forecast.png", horizon=30)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
