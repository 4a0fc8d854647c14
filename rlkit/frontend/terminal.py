"""Live terminal animation of text envs (the maze, FrozenLake, CliffWalking, Taxi) at a chosen speed.

On a terminal, rich redraws the board in place (the book's `reprint` loop, without the package); elsewhere
(a pipe, a log, a test capturing output) each frame is printed after the last, without control characters
(see plain_frame), so the output reads as a plain transcript of the episode.
"""

from __future__ import annotations

import re
import sys
import time
from typing import TextIO

MODES = ("auto", "rich", "plain")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


_HIGHLIGHT = re.compile(r"\x1b\[(?:[0-9]+;)*(?:4[0-7]|10[0-7])(?:;[0-9]+)*m(.*?)\x1b\[0m", re.DOTALL)


def strip_ansi(text: str) -> str:
    """The text without ANSI escape sequences."""
    return _ANSI.sub("", text)


def plain_frame(text: str) -> str:
    """A text frame without colours, where a cell marked only by a background colour stays visible.

    Gymnasium's toy-text envs mark the agent by a background colour (FrozenLake's red cell, Taxi's yellow
    taxi): such cells become lower case (a letter) or '@' (anything else), so columns stay aligned.
    """
    marked = _HIGHLIGHT.sub(lambda m: "".join(c.lower() if c.isalpha() else "@" for c in m.group(1)), text)
    return strip_ansi(marked)


def status_line(episode: int, episodes: int, step: int, reward: float | None, ret: float) -> str:
    """The line under the board: episode, step, last reward and return so far."""
    last = "-" if reward is None else f"{reward:g}"
    return f"episode {episode + 1}/{episodes}  step {step}  reward {last}  return {ret:g}"


class TerminalAnimation:
    """Shows one text frame after another with a status line, `speed` seconds per frame."""

    def __init__(self, mode: str = "auto", speed: float = 0.0, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.mode = ("rich" if tty else "plain") if mode == "auto" else mode
        self.speed = speed
        self._live = None

    def start(self, title: str) -> None:
        """Prints the title and, on a terminal, opens the live region."""
        print(title, file=self.stream, flush=True)
        if self.mode == "rich":
            from rich.console import Console  # rich: only for the animated (rich) mode
            from rich.live import Live

            console = Console(file=self.stream)
            self._live = Live(console=console, auto_refresh=False, transient=False)
            self._live.start()

    def show(self, frame: str, status: str) -> None:
        """Draws a frame (replacing the last one on a terminal), then waits `speed` seconds."""
        frame = frame.strip("\n")
        if self._live is not None:
            from rich.console import Group
            from rich.text import Text

            self._live.update(Group(Text.from_ansi(frame), Text(status, style="bold")), refresh=True)
        else:
            print(f"{plain_frame(frame)}\n{status}\n", file=self.stream, flush=True)
        if self.speed > 0:
            time.sleep(self.speed)

    def message(self, text: str) -> None:
        """A line that stays (e.g. an episode's result), printed under the animation."""
        if self._live is not None:
            self._live.console.print(text, highlight=False, markup=False)
        else:
            print(text, file=self.stream, flush=True)

    def stop(self) -> None:
        """Closes the live region, leaving the last frame on screen."""
        if self._live is not None:
            self._live.stop()
            self._live = None
