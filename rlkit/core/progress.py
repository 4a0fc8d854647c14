"""What the runner tells a progress display: a Snapshot of its counters, and the display protocol.

The displays themselves (rich live bar, plain lines) live in the front end (rlkit/frontend/ui.py).
"""

from __future__ import annotations

from dataclasses import dataclass


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
    metric: str = "return"  # the task's headline (rlkit.core.headline): return_mean/eval_mean hold its values
    decimals: int = 2
    evaluating: tuple[int, int] | None = None  # (episodes done, episodes) while an evaluation runs

    @property
    def done_units(self) -> int:
        """Progress in the budget's unit."""
        return self.step if self.unit == "steps" else self.episodes

    def stats(self) -> str:
        """One line of the numbers besides progress."""
        parts = [f"{self.sps:,.0f} steps/s", f"episodes {self.episodes:,}"]
        d = self.decimals
        if self.evaluating is not None:
            parts.insert(0, f"evaluating {self.evaluating[0]:,}/{self.evaluating[1]:,} episodes")
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
