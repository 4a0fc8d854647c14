"""Ctrl-C (SIGINT) where a run must stay consistent: caught by the runner between two steps, and held back
while a checkpoint is written. Both only act in the main thread (signal handlers can only be set there)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def catch_sigint(on_sigint: Callable[[], None]) -> Callable[[], None]:
    """Calls `on_sigint()` on each Ctrl-C instead of raising; returns the function that puts back the previous
    handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGINT, lambda signum, frame: on_sigint())
    return lambda: signal.signal(signal.SIGINT, previous)


@contextmanager
def sigint_deferred() -> Iterator[None]:
    """Runs the block with Ctrl-C held back; one that came meanwhile is delivered when the block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(signal.SIGINT, None)
        elif received and previous == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGINT)
