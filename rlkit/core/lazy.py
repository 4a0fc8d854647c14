"""Train metrics computed only when they are read: agents return them from update() every step, the runner
reads (``float(value)``) only those of the update before a periodic log line, a divergence check or a
checkpoint, so the work (and, on a GPU, the device sync) of all other steps is skipped."""

from __future__ import annotations

from collections.abc import Callable


class LazyMetric:
    """A metric value that runs `compute` on the first float() and keeps the result.

    `compute` must only read tensors that nothing changes later (detached outputs, the step's targets), so
    the value is the one an eager computation at update time would have given, bit for bit.
    """

    __slots__ = ("_compute", "_value")

    def __init__(self, compute: Callable[[], float]):
        self._compute: Callable[[], float] | None = compute
        self._value = 0.0

    def __float__(self) -> float:
        if self._compute is not None:
            self._value, self._compute = float(self._compute()), None  # drop the tensors it held
        return self._value

    def __repr__(self) -> str:
        return f"LazyMetric({float(self)!r})"
