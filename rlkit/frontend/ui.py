"""Training progress for people: a rich live display on a terminal, plain lines elsewhere, or nothing."""

from __future__ import annotations

import sys
import time

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from rlkit.core.progress import NullUI, Snapshot


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
            TextColumn("{task.fields[counts]}"),
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
        self._task = self.progress.add_task(title, total=None, unit="", counts="")
        self.live.start()

    def update(self, snap: Snapshot) -> None:
        """Moves the bar and rewrites the stats line; the display refreshes itself 4 times a second."""
        counts = f"{snap.done_units:,}/{snap.total:,}"  # thousands separators: MofNCompleteColumn has none
        self.progress.update(
            self._task, completed=snap.done_units, total=snap.total, unit=snap.unit, counts=counts
        )
        self.stats.plain = snap.stats()

    def stop(self, snap: Snapshot | None = None) -> None:
        """Draws the last state and leaves it on screen."""
        if snap is not None:
            self.update(snap)
        self.live.stop()


class EpisodeProgress:
    """evaluate()'s on_episode callback: "k/n episodes" with steps/s and time left in a progress display."""

    def __init__(self, ui: NullUI, title: str):
        self.ui, self.title, self._clock = ui, title, time.perf_counter
        self._t0 = self._next = 0.0
        self._last: Snapshot | None = None

    def __call__(self, episode: int, episodes: int, steps: int) -> None:
        """Shows episode `episode` of `episodes` (at most 10 times a second)."""
        now = self._clock()
        if self._last is None:
            self.ui.start(self.title)
            self._t0 = now
        elapsed = now - self._t0
        self._last = Snapshot(steps, episode, episodes, "episodes", steps / max(elapsed, 1e-9), elapsed)
        if now >= self._next or episode == episodes:
            self._next = now + 0.1
            self.ui.update(self._last)

    def close(self) -> None:
        """Leaves the last state on screen."""
        if self._last is not None:
            self.ui.stop(self._last)


def make_ui(mode: str, console: Console | None = None, stream=None) -> NullUI:
    """ui=auto picks rich on a terminal and plain lines otherwise, on `stream` (default stdout)."""
    stream = stream or sys.stdout
    if mode == "auto":
        mode = "rich" if stream.isatty() else "plain"
    if mode == "rich":
        return RichUI(console or (Console(file=stream) if stream is not sys.stdout else None))
    if mode == "plain":
        return PlainUI(stream=stream)
    return NullUI()


def _hms(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
