"""The book's chapter 15 time-series forecasting: from `input_window` past values, forecast the next ones.

One step shows a minibatch of input windows ((batch, input_window, features) float32); the action is the
model's forecast of the following values ((batch, output_window, features)); the env scores it by mean squared
error (reward: minus the MSE) and reveals the true values in ``info["targets"]``. The train split holds every
window whose forecast lies in the head of the series; the test split forecasts its held-out tail
(`test_fraction`) in consecutive non-overlapping windows, so every tail value is scored once (the input
windows may reach back into the head). Series: the book's synthetic ones, generated from `data_seed`
("sine_trend": sin(pi x / 100) + x / 200 + U(-0.2, 0.2), the AR example; "sines": sin(pi x / 50) +
cos(pi x / 50) + sin(pi x / 25) + noise, the LSTM example; "multivariate": a 5-variable stand-in for the
book's multivariate_periods.csv, which is not available offline), or a CSV file (`path`) laid out like the
book's: column 0 the time, then one column per variable, an optional header row. `forecast_png` draws the
observed, fitted and forecast values like the book's predict_result.jpg.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs.supervised import SPLITS, SupervisedEnv, check_choice, check_positive

SERIES = ("sine_trend", "sines", "multivariate")


def synthetic_series(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """The book's synthetic series of `n` points as (n, features) float32 (see the module docstring)."""
    x = np.arange(n, dtype=np.float64)
    noise = rng.uniform(-0.2, 0.2, size=n)
    if name == "sine_trend":
        y = np.sin(np.pi * x / 100) + x / 200.0 + noise
    elif name == "sines":
        y = np.sin(np.pi * x / 50) + np.cos(np.pi * x / 50) + np.sin(np.pi * x / 25) + noise
    else:  # five variables: offsets 0..4, each its own period and phase, plus noise
        periods = np.array([50.0, 70.0, 100.0, 35.0, 150.0])
        y = np.arange(5) + np.sin(2 * np.pi * x[:, None] / periods + np.arange(5))
        return (y + rng.uniform(-0.2, 0.2, size=y.shape)).astype(np.float32)
    return y[:, None].astype(np.float32)


def read_csv_series(path: str | Path) -> np.ndarray:
    """Values (rows, columns - 1) of a CSV whose column 0 is the time; UserError naming the path otherwise."""
    path = Path(path).expanduser()
    expected = "a CSV file: column 0 the time, then one numeric column per variable, an optional header"
    if not path.is_file():
        raise UserError(f"env.kwargs.path: time-series file {path} not found (expected {expected})")
    lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    rows = []
    for k, line in enumerate(lines):
        cells = line.split(",")
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            if k == 0:
                continue  # a header row
            raise UserError(f"{path}, line {k + 1}: {line!r} is not numeric (expected {expected})") from None
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
        raise UserError(f"{path}: rows of unequal length or fewer than 2 columns (expected {expected})")
    return np.asarray(rows, dtype=np.float32)[:, 1:]


def forecast_windows(
    series: np.ndarray, input_window: int, output_window: int, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (n, input_window, F), targets (n, output_window, F)) for windows starting at `starts`."""
    x = np.stack([series[s : s + input_window] for s in starts])
    y = np.stack([series[s + input_window : s + input_window + output_window] for s in starts])
    return x, y


def split_starts(n: int, input_window: int, output_window: int, cut: int, split: str) -> np.ndarray:
    """Window starts: train forecasts lie before `cut` (stride 1); test forecasts tile [cut, n)."""
    if split == "train":
        return np.arange(0, cut - input_window - output_window + 1)
    first = np.arange(cut, n - output_window + 1, output_window)
    return first - input_window


def masked_mse_np(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared error over the real rows (mask True)."""
    if not mask.any():
        return 0.0
    return float(((pred[mask] - target[mask]) ** 2).mean())


class TimeSeriesEnv(SupervisedEnv):
    """Multi-step forecasting of a series, one minibatch of windows per step; an episode is one epoch.

    ## Arguments
    series ("sine_trend" | "sines" | "multivariate"; ignored when `path` is set), path (CSV, None: synthetic),
    length (1000 points of a synthetic series), split ("train" | "test"), input_window (30), output_window
    (10), batch_size (16), test_fraction (0.2), shuffle (None: True for train), data_seed (0).
    """

    actions_ignored = True  # the epoch's minibatches do not depend on the answers (rlkit.core.vector)

    metadata = {"render_modes": [], "render_fps": 1}
    reward_key = "neg_mse"
    headline = Headline("MSE", "mse", higher_is_better=False, decimals=4)

    def __init__(
        self,
        series: str = "sine_trend",
        path: str | None = None,
        length: int = 1000,
        split: str = "train",
        input_window: int = 30,
        output_window: int = 10,
        batch_size: int = 16,
        test_fraction: float = 0.2,
        shuffle: bool | None = None,
        data_seed: int = 0,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        for key, value in (("length", length), ("input_window", input_window)):
            check_positive(key, value)
        check_positive("output_window", output_window)
        if not 0 < test_fraction < 1:
            raise UserError(f"env.kwargs.test_fraction={test_fraction!r} is invalid: it must be in (0, 1)")
        if path:
            self.series = read_csv_series(path)
        else:
            check_choice("series", series, SERIES)
            self.series = synthetic_series(series, length, np.random.default_rng(data_seed))
        n = len(self.series)
        self.cut = int(n * (1 - test_fraction))
        self.input_window, self.output_window = input_window, output_window
        starts = split_starts(n, input_window, output_window, self.cut, split)
        if self.cut - input_window - output_window < 0 or len(starts) == 0 or starts.min() < 0:
            raise UserError(
                f"env.kwargs: a series of {n} points is too short for input_window={input_window}, "
                f"output_window={output_window} and test_fraction={test_fraction}"
            )
        x, y = forecast_windows(self.series, input_window, output_window, starts)
        f = self.series.shape[1]
        big = np.finfo(np.float32).max  # finite bounds: Gymnasium's checker warns about infinite ones
        obs_space = spaces.Box(-big, big, (batch_size, input_window, f), np.float32)
        act_space = spaces.Box(-big, big, (batch_size, output_window, f), np.float32)
        shuffle = split == "train" if shuffle is None else shuffle
        super().__init__(x, y, batch_size, shuffle, obs_space, act_space, render_mode)

    def score(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        """Mean squared error of the forecasts (and its negative, the reward)."""
        mse = masked_mse_np(np.asarray(pred, dtype=np.float64), target, mask)
        return {"mse": mse, "neg_mse": -mse}


def predict_windows(agent: Any, env: Any, inputs: np.ndarray) -> np.ndarray:
    """The agent's greedy forecasts for input windows (n, input_window, F), in the env's minibatches."""
    base = env.unwrapped
    b = base.batch_size
    out = []
    for i in range(0, len(inputs), b):
        chunk = inputs[i : i + b]
        obs = np.zeros(base.observation_space.shape, dtype=np.float32)
        obs[: len(chunk)] = chunk
        out.append(np.asarray(agent.act(obs[None], explore=False)[0])[: len(chunk)])
    return np.concatenate(out)


def forecast(agent: Any, env: Any, history: np.ndarray, horizon: int) -> np.ndarray:
    """`horizon` values after `history` (n, F), forecast window by window, feeding forecasts back in."""
    base = env.unwrapped
    values = np.asarray(history, dtype=np.float32)
    start = len(values)
    while len(values) - start < horizon:
        nxt = predict_windows(agent, env, values[None, -base.input_window :])[0]
        values = np.concatenate([values, nxt])
    return values[start : start + horizon]


def forecast_png(agent: Any, env: Any, path: str | Path, horizon: int = 250) -> Path:
    """A PNG of the observed series, the fitted values (forecasts of consecutive windows) and a forecast.

    Like the book's predict_result.jpg: observed (blue), fitted (green), forecast of `horizon` steps after
    the end of the series (red), a dotted line where the observations end; one panel per variable.
    """
    import matplotlib  # ~0.5 s to import: only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = env.unwrapped
    series, w, o = base.series, base.input_window, base.output_window
    starts = np.arange(0, len(series) - w - o + 1, o)
    fitted = predict_windows(agent, env, forecast_windows(series, w, o, starts)[0])
    fitted = fitted.reshape(-1, series.shape[1])
    ahead = forecast(agent, env, series, horizon)
    n, f = series.shape
    fig, axes = plt.subplots(f, 1, figsize=(10, 2.2 * f + 1), squeeze=False)
    for k, ax in enumerate(axes[:, 0]):
        ax.plot(np.arange(n), series[:, k], color="tab:blue", lw=0.8, label="observed")
        ax.plot(np.arange(w, w + len(fitted)), fitted[:, k], color="tab:green", lw=0.8, label="fitted")
        ax.plot(np.arange(n, n + horizon), ahead[:, k], color="tab:red", lw=1.0, label="forecast")
        ax.axvline(n - 1, color="red", ls=":")
        ax.axvline(base.cut, color="gray", ls="--", lw=0.6)
    axes[0, 0].legend(loc="upper left", fontsize=8)
    axes[0, 0].set_title("observed, fitted and forecast values (dashed: start of the held-out tail)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
