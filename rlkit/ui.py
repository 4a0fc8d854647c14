"""Training progress for people: a rich live display on a terminal, plain lines elsewhere, or nothing."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


@dataclass
class Snapshot:
    """What the runner reports: counters, rates and the latest numbers worth watching."""

    step: int
    episodes: int
    total: int  # in `unit`s
    unit: str  # "steps" or "episodes"
    sps: float
    elapsed: float
    return_mean: float | None = None
    epsilon: float | None = None
    eval_mean: float | None = None
    eval_std: float | None = None  # None: no spread shown (a supervised task's one pass over its test split)
    metric: str = "return"  # the task's headline (rlkit.headline): return_mean/eval_mean hold its values
    decimals: int = 2

    @property
    def done_units(self) -> int:
        """Progress in the budget's unit."""
        return self.step if self.unit == "steps" else self.episodes

    def stats(self) -> str:
        """One line of the numbers besides progress."""
        parts = [f"{self.sps:,.0f} steps/s", f"episodes {self.episodes:,}"]
        d = self.decimals
        if self.return_mean is not None:
            parts.append(f"recent {self.metric} {self.return_mean:.{d}f}")
        if self.epsilon is not None:
            parts.append(f"epsilon {self.epsilon:.3f}")
        if self.eval_mean is not None and self.eval_std is not None:
            parts.append(f"eval {self.eval_mean:.{d}f} ± {self.eval_std:.{d}f}")
        elif self.eval_mean is not None:
            parts.append(f"eval {self.metric} {self.eval_mean:.{d}f}")
        return " | ".join(parts)


class NullUI:
    """Shows nothing (ui=none)."""

    def start(self, title: str) -> None:
        """Nothing to start."""

    def update(self, snap: Snapshot) -> None:
        """Nothing to show."""

    def stop(self, snap: Snapshot | None = None) -> None:
        """Nothing to stop."""


class PlainUI(NullUI):
    """A line every `every` seconds (and a last one), for logs, pipes and CI: no control characters."""

    def __init__(self, every: float = 5.0, stream=None):
        self.every = every
        self.stream = stream or sys.stdout
        self._next = 0.0

    def start(self, title: str) -> None:
        """Prints what is starting."""
        print(f"[rlkit] {title}", file=self.stream, flush=True)
        self._next = time.perf_counter() + self.every

    def update(self, snap: Snapshot) -> None:
        """Prints a line when `every` seconds have passed since the last one."""
        now = time.perf_counter()
        if now >= self._next:
            self._next = now + self.every
            self._print(snap)

    def stop(self, snap: Snapshot | None = None) -> None:
        """Prints the final line."""
        if snap is not None:
            self._print(snap)

    def _print(self, snap: Snapshot) -> None:
        pct = 100.0 * snap.done_units / max(snap.total, 1)
        left = snap.elapsed * (snap.total - snap.done_units) / max(snap.done_units, 1)
        print(
            f"[rlkit] {snap.done_units:,}/{snap.total:,} {snap.unit} ({pct:.0f}%) | {snap.stats()} | "
            f"elapsed {_hms(snap.elapsed)}, left ~{_hms(left)}",
            file=self.stream,
            flush=True,
        )


class RichUI(NullUI):
    """A live progress bar with steps/s, elapsed and remaining time, and a line of training stats."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.stats = Text("")
        self.live = Live(Group(self.progress, self.stats), console=self.console, refresh_per_second=4)
        self._task = None

    def start(self, title: str) -> None:
        """Starts the live display."""
        self._task = self.progress.add_task(title, total=None, unit="")
        self.live.start()

    def update(self, snap: Snapshot) -> None:
        """Moves the bar and rewrites the stats line; the display refreshes itself 4 times a second."""
        self.progress.update(self._task, completed=snap.done_units, total=snap.total, unit=snap.unit)
        self.stats.plain = snap.stats()

    def stop(self, snap: Snapshot | None = None) -> None:
        """Draws the last state and leaves it on screen."""
        if snap is not None:
            self.update(snap)
        self.live.stop()


def make_ui(mode: str, console: Console | None = None) -> NullUI:
    """ui=auto picks rich on a terminal and plain lines otherwise."""
    if mode == "auto":
        mode = "rich" if sys.stdout.isatty() else "plain"
    if mode == "rich":
        return RichUI(console)
    if mode == "plain":
        return PlainUI()
    return NullUI()


def _hms(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
