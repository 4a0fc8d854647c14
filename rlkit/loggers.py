"""Metric sinks: TensorBoard event files and metrics.jsonl, fanned out from one `log` call.

metrics.jsonl holds only what a seeded CPU run reproduces exactly: wall-clock tags (`time/...`) go to
TensorBoard and the console, not to the JSONL file, so two runs with the same seed write identical files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from rlkit.types import Logger


class JsonlLogger:
    """Appends one JSON object per call: {"step": N, "tag": value, ...}, flushed at each periodic log."""

    def __init__(self, path: Path):
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (kept open for the run)

    def log(self, metrics: dict[str, float], step: int) -> None:
        """Writes the metrics that are not wall-clock measurements."""
        row = {k: _finite(v) for k, v in metrics.items() if not k.startswith("time/")}
        if row:
            self._file.write(json.dumps({"step": step, **row}) + "\n")

    def flush(self) -> None:
        """Pushes buffered lines to disk."""
        self._file.flush()

    def close(self) -> None:
        """Flushes and closes the file."""
        self._file.close()


class TensorBoardLogger:
    """Scalars into TensorBoard event files in the run directory."""

    def __init__(self, log_dir: Path):
        from torch.utils.tensorboard import SummaryWriter  # imported lazily: it takes ~1 s

        self._writer = SummaryWriter(log_dir=str(log_dir), flush_secs=10)

    def log(self, metrics: dict[str, float], step: int) -> None:
        """One add_scalar per metric."""
        for tag, value in metrics.items():
            self._writer.add_scalar(tag, value, step)

    def flush(self) -> None:
        """Writes pending events to disk."""
        self._writer.flush()

    def close(self) -> None:
        """Flushes and closes the event file."""
        self._writer.close()


class MultiLogger:
    """Fans one call out to several loggers."""

    def __init__(self, loggers: list[Logger]):
        self.loggers = loggers

    def log(self, metrics: dict[str, float], step: int) -> None:
        """Logs to every sink."""
        for logger in self.loggers:
            logger.log(metrics, step)

    def flush(self) -> None:
        """Flushes every sink that can."""
        for logger in self.loggers:
            getattr(logger, "flush", lambda: None)()

    def close(self) -> None:
        """Closes every sink."""
        for logger in self.loggers:
            logger.close()


def _finite(value: float) -> float | str:
    """JSON has no NaN/inf: write them as strings so the file stays valid JSON."""
    value = float(value)
    return value if math.isfinite(value) else str(value)
