"""Checkpoints: written atomically (temp file, fsync, rename), loaded without unpickling arbitrary objects."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from rlkit.errors import UserError

FORMAT = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Writes `state` to `path` so that a crash at any moment leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Reads a checkpoint with torch's weights-only loader: tensors, numbers, strings, lists, dicts only."""
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unpickling refused or a damaged file
        raise UserError(f"checkpoint {path} cannot be loaded safely: {str(err).splitlines()[0]}") from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UserError(f"{path} is not an rlkit checkpoint (format {FORMAT})")
    return state
