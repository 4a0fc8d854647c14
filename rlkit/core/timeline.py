"""When the runner next logs, evaluates, records a video and checkpoints, counted in env steps.

The training loop compares the step with one number, `first`, the earliest of the four; only when it is
reached does it look at which events are due (so a step that is due for nothing costs one comparison).
"""

from __future__ import annotations

from dataclasses import dataclass


def next_multiple(step: int, every: int) -> float:
    """The next multiple of `every` after `step` (never, when every is 0)."""
    return (step // every + 1) * every if every > 0 else float("inf")


@dataclass
class Timeline:
    """The next step of each periodic event (`inf`: never), and the earliest of them."""

    log: float
    eval: float
    video: float
    ckpt: float
    first: float = 0.0

    @classmethod
    def starting_at(cls, step: int, log_every: int, eval_every: int, video_every: int, ckpt_every: int):
        """The events after `step`, each every `*_every` env steps (0: never)."""
        every = (log_every, eval_every, video_every, ckpt_every)
        timeline = cls(*(next_multiple(step, e) for e in every))
        timeline.refresh()
        return timeline

    def refresh(self) -> None:
        """Recomputes `first` after an event moved on."""
        self.first = min(self.log, self.eval, self.video, self.ckpt)
