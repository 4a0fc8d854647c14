"""Ctrl-C (SIGINT) and SIGTERM where a run must stay consistent: caught by the runner between two steps, and
held back while a checkpoint is written. Both only act in the main thread (signal handlers can only be set
there).

SIGTERM (`kill <pid>`, what batch schedulers, `timeout` and Ray send) is treated exactly as Ctrl-C: the first
one finishes the current step, checkpoints and stops; a second stops at once, but never in the middle of a
checkpoint. `stop_signal()` says which of the two came last, so that the CLI can exit with 128 + its number
(130 for SIGINT, 143 for SIGTERM, the shells' convention).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_last = [signal.SIGINT]  # the stop signal received last (stop_signal)


def stop_signal() -> signal.Signals:
    """The stop signal (SIGINT or SIGTERM) received last in this process; SIGINT if none came."""
    return signal.Signals(_last[0])


def forget_stop_signal() -> None:
    """Forgets the stop signal received last (a new command starts: rlkit.frontend.cli)."""
    _last[0] = signal.SIGINT


def _noted(signum: int) -> None:
    _last[0] = signum


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _set_stop_handlers(handler: Callable[[int, object], object]) -> dict[int, object]:
    """Sets `handler` for each stop signal; the handlers it replaced (for _put_back)."""
    return {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}


def _put_back(previous: dict[int, object]) -> None:
    for signum, old in previous.items():
        signal.signal(signum, old)


def catch_sigint(on_sigint: Callable[[], None]) -> Callable[[], None]:
    """Calls `on_sigint()` on each Ctrl-C or SIGTERM instead of stopping; returns the function that puts back
    the previous handlers."""
    if not _in_main_thread():
        return lambda: None

    def handler(signum: int, frame: object) -> None:
        _noted(signum)
        on_sigint()

    previous = _set_stop_handlers(handler)
    return lambda: _put_back(previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    _noted(signum)
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """Runs the block with SIGTERM raising KeyboardInterrupt, as Ctrl-C does (Python's default handler
    only does that for SIGINT); the previous handler is put back at the end."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def sigint_deferred() -> Iterator[None]:
    """Runs the block with Ctrl-C and SIGTERM held back; one that came meanwhile is delivered, to the handler
    that was in place before, when the block ends."""
    if not _in_main_thread():
        yield
        return
    received: list[int] = []
    previous = _set_stop_handlers(lambda s, frame: received.append(s))
    try:
        yield
    finally:
        _put_back(previous)
        for signum in dict.fromkeys(received):  # each signal once, in the order they came
            old = previous[signum]
            if callable(old):
                old(signum, None)
            elif old == signal.SIG_DFL:
                os.kill(os.getpid(), signum)
