"""The live view of `rlkit sweep`: a row per trial (config, seed, status, node, step, the last and best
evaluation of the task's headline metric (the return for RL, accuracy, bits per char, ...), ETA).

On a terminal (ui=auto or rich) a rich table redrawn in place; piped or ui=plain, one line per event (a trial
starts, evaluates, finishes, fails, is retried); ui=none prints nothing. Ray Tune's own reporter is silenced
(rlkit.frontend.sweep_ray), so this is all that is shown while a sweep runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlkit.frontend.sweep_plan import Trial

STATUSES = ("pending", "running", "retrying", "done", "failed", "skipped")


@dataclass
class Row:
    """What is known about one trial."""

    trial: Trial
    status: str = "pending"
    node: str = ""
    step: int = 0
    eval: float | None = None
    best: float | None = None
    started: float | None = None
    retries: int = 0


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class SweepTable:
    """Collects trial events and shows them (rich live table, plain lines, or nothing)."""

    def __init__(
        self,
        trials: list[Trial],
        ui: str = "auto",
        total_steps: int | None = None,
        stream=None,
        metric: str = "return",
        on_done: Callable[[Trial], Any] | None = None,
    ):
        """metric: the name of the task's headline metric (what eval and best show); on_done: called with a
        trial when it finishes."""
        self.rows = {t.name: Row(t) for t in trials}
        self.metric, self.on_done = metric, on_done
        self.stream = stream or sys.stdout
        tty = getattr(self.stream, "isatty", lambda: False)()
        self.mode = "rich" if ui == "rich" or (ui == "auto" and tty) else ui if ui in ("none",) else "plain"
        self.total_steps, self.t0, self.live = total_steps, time.monotonic(), None

    def add(self, trial: Trial) -> None:
        """A row for a trial that was not planned in advance (Optuna proposes configurations as it goes)."""
        self.rows.setdefault(trial.name, Row(trial))

    def start(self) -> None:
        """Begins the live display."""
        if self.mode == "rich":
            from rich.console import Console
            from rich.live import Live

            self.live = Live(self.render(), console=Console(file=self.stream), refresh_per_second=2)
            self.live.start()

    def stop(self) -> None:
        """Ends the live display (its last state stays on screen)."""
        if self.live is not None:
            self.live.update(self.render())
            self.live.stop()
            self.live = None

    def event(self, name: str, status: str | None = None, result: dict[str, Any] | None = None) -> None:
        """A trial's new status and/or progress report."""
        row = self.rows.get(name)
        if row is None:
            return
        before = (row.status, row.eval)
        if status == "running" and row.started is None:
            row.started = time.monotonic()
        if status == "retrying":
            row.retries += 1
        if status:
            if status == "done" and row.status != "done" and self.on_done is not None:
                self.on_done(row.trial)
            row.status = status
        if result:
            row.node = str(result.get("node") or row.node)
            row.step = int(result.get("step") or row.step)
            row.eval = result.get("eval", row.eval)
            row.best = result.get("best", row.best)
        if self.live is not None:
            self.live.update(self.render())
        elif self.mode == "plain" and (row.status, row.eval) != before:
            print(self.line(row), file=self.stream, flush=True)

    def line(self, row: Row) -> str:
        """One plain line about a trial."""
        retry = f" (retry {row.retries})" if row.retries else ""
        return (
            f"rlkit sweep: {row.trial.name} {row.status}{retry} step {row.step:,} "
            f"{self.metric} {_num(row.eval)} best {_num(row.best)}"
            + (f" node {row.node}" if row.node else "")
        )

    def eta(self, row: Row) -> str:
        """Seconds left of a running trial, from its pace (when the step budget is known)."""
        if row.status != "running" or not self.total_steps or not row.step or row.started is None:
            return "-"
        elapsed = time.monotonic() - row.started
        return f"{elapsed / row.step * max(self.total_steps - row.step, 0):.0f} s"

    def render(self):
        """The rich table of every trial."""
        from rich.table import Table

        counts = {s: sum(r.status == s for r in self.rows.values()) for s in STATUSES}
        done = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        table = Table(
            title=f"rlkit sweep: {done}  ({time.monotonic() - self.t0:.0f} s)", title_justify="left"
        )
        right = ("seed", "step", self.metric, f"best {self.metric}", "ETA")
        for col in (
            "trial",
            "config",
            "seed",
            "status",
            "node",
            "step",
            self.metric,
            f"best {self.metric}",
            "ETA",
        ):
            table.add_column(col, justify="right" if col in right else "left")
        for i, row in enumerate(self.rows.values()):
            status = row.status + (f" (retry {row.retries})" if row.retries else "")
            table.add_row(str(i), row.trial.config, str(row.trial.seed), status, row.node, f"{row.step:,}",
                          _num(row.eval), _num(row.best), self.eta(row))  # fmt: skip
        return table
