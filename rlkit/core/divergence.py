"""The NaN guard: a NaN or infinite loss (or parameter) stops training, keeping the last good checkpoint."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rlkit.core.checkpoint import non_finite_tensors
from rlkit.core.errors import UserError

WATCHED = ("loss", "error")  # agent metrics whose NaN means divergence; other diagnostics are only logged


class DivergedError(UserError):
    """A loss or metric became NaN or infinite: training stops, the last good checkpoint stays."""


def check_finite(
    metrics: dict[str, Any], step: int, checkpoint_dir: Path, state: dict[str, Any] | None = None
) -> None:
    """Raises DivergedError on a NaN/inf loss (metrics named in WATCHED) or, given a state, parameter.

    The runner checks at each periodic log and before each checkpoint, not every step: no per-step cost, no
    GPU sync for tensor metrics, and never a diverged checkpoint. A NaN diagnostic (SB3's explained_variance
    when the returns have no variance) is logged, not fatal. The message names the last good checkpoint in
    `checkpoint_dir`."""
    bad = [
        f"train/{k}={float(v)}"
        for k, v in metrics.items()
        if any(w in k for w in WATCHED) and not math.isfinite(float(v))
    ]
    if state is not None:
        bad += [f"{name}=nan/inf" for name in non_finite_tensors(state["agent"])[:3]]
    if bad:
        kept = checkpoint_dir / "latest.pt"
        where = f"the last good checkpoint is {kept}" if kept.exists() else "no checkpoint was written"
        raise DivergedError(
            f"training diverged at step {step}: non-finite "
            + ", ".join(bad)
            + f"; training stopped and {where} (try a smaller learning rate)"
        )
