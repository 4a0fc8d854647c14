"""User-facing errors: the CLI prints their message on one line and exits non-zero, without a traceback."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterable


class UserError(ValueError):
    """A mistake in what the user asked for (a config value, a name, a file), with the valid choices."""


class IncompatibleError(UserError):
    """An agent and an env that cannot work together (e.g. a tabular agent on pixel observations)."""


class RlkitWarning(UserWarning):
    """A setting that runs, but probably not as meant; the CLI prints it as one `rlkit: warning:` line."""


def check_ranges(prefix: str, checks: Iterable[tuple[str, bool, str]], shown: Callable[[str], str]) -> None:
    """Raises UserError for the first (key, ok, allowed) check that failed, as
    `<prefix><key>=<shown(key)> is invalid: it must be <allowed>` (the config classes' validate())."""
    for key, ok, allowed in checks:
        if not ok:
            raise UserError(f"{prefix}{key}={shown(key)} is invalid: it must be {allowed}")


def invalid_choice(setting: str, choices: Iterable[object], what: str = "values") -> UserError:
    """The one line for a value outside its choices: `<setting> is invalid: valid <what> are a, b, c`, with
    `setting` shown as the user gave it (`render=gyf`, `env.kwargs.split='tst'`, `--cfg jb`)."""
    return UserError(f"{setting} is invalid: valid {what} are {', '.join(map(str, choices))}")


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """warnings.showwarning for the CLI: rlkit's own warnings on one line, others as Python prints them."""
    if issubclass(category, RlkitWarning):
        print(f"rlkit: warning: {message}", file=file or sys.stderr, flush=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def describe_space(space) -> str:
    """A Gymnasium space on one short line for messages: its repr, unless that spells out whole arrays
    (a Box with bounds that vary per entry, a large MultiDiscrete), which become their range and shape."""
    text = str(space)
    if "\n" not in text and len(text) <= 120:
        return text
    name, shape, dtype = type(space).__name__, getattr(space, "shape", None), getattr(space, "dtype", None)
    if hasattr(space, "low") and hasattr(space, "high"):
        low, high = space.low, space.high
        return (
            f"{name}(low {low.min()}..{low.max()}, high {high.min()}..{high.max()}, shape {shape}, {dtype})"
        )
    if hasattr(space, "nvec"):
        return f"{name}(shape {shape}, values in [0, {space.nvec.max()}), {dtype})"
    return f"{text.splitlines()[0][:117]}..."
