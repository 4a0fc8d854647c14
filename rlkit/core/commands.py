"""Commands rlkit prints for people to run (tensorboard --logdir ..., rlkit train resume=...), written so
they work as printed: the bare name when this shell finds it on PATH, else the console script's path in the
Python environment rlkit runs in (e.g. `.venv/bin/tensorboard` after `make train`, venv not activated)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def command(name: str) -> str:
    """How to call this environment's console script `name` from the current shell and directory."""
    script = Path(sys.executable).parent / name  # the venv's bin/ (sys.executable is not resolved: a link)
    found = shutil.which(name)
    if not script.is_file() or (found and os.path.samefile(found, script)):
        return name
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)
