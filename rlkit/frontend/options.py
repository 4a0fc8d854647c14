"""The options of each config group (agent=, env=, +experiment=): rlkit's own YAML files and those of any
config folder added with Hydra's `hydra.searchpath=[DIR, ...]`, each with its one-line description.

A config folder of your own holds agent/<name>.yaml, env/<name>.yaml or experiment/<name>.yaml beside rlkit's:
`rlkit train hydra.searchpath=[file:///abs/path/configs] agent=<name>` (README "Adding an agent").
"""

from __future__ import annotations

import difflib
from importlib.resources import files
from pathlib import Path
from typing import Any

from rlkit.core.errors import UserError

GROUPS = ("agent", "env", "experiment")
SEARCHPATH = "hydra.searchpath="


def search_dirs(args: list[str]) -> list[Any]:
    """The config folders of `rlkit train <args>`: rlkit's own, then each `hydra.searchpath` entry
    (file://DIR, pkg://package or a plain path), as Hydra reads them."""
    dirs: list[Any] = [files("rlkit.configs")]
    for arg in args:
        if arg.lstrip("+").startswith(SEARCHPATH):
            for entry in arg.partition("=")[2].strip("[]").split(","):
                entry = entry.strip().strip("'\"")
                if entry.startswith("pkg://"):
                    dirs.append(files(entry[len("pkg://") :].replace("/", ".")))
                elif entry:
                    dirs.append(Path(entry.removeprefix("file://")))
    return dirs


def group_options(group: str, args: list[str] | None = None) -> dict[str, str]:
    """Option name -> its one-line description (the first comment line of its YAML file)."""
    out = {}
    for root in search_dirs(args or []):
        folder = root.joinpath(group)
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if path.name.endswith(".yaml") and path.name[: -len(".yaml")] not in out:
                lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("# ")]
                text = next((ln[2:] for ln in lines if not ln.startswith("# @package")), "")
                out[path.name[: -len(".yaml")]] = text
    return out


def choice_error(
    group: str, value: str, also: list[str] | None = None, args: list[str] | None = None
) -> UserError:
    """Unknown option: the valid ones, and the closest name (among `also` too, e.g. Gymnasium ids)."""
    options = sorted(group_options(group, args))
    close = close_matches(value, options + (also or []))
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    tail = ", any Atari game (e.g. Breakout, Pong), or any registered Gymnasium id (e.g. FrozenLake-v1)"
    tail = tail if also else ""
    return UserError(f"unknown {group} '{value}'.{hint} Valid {group}s: {', '.join(options)}{tail}")


def close_matches(value: str, choices: list[str], n: int = 3) -> list[str]:
    """The choices closest to `value`, ignoring case (agent=DQN -> dqn, env=cartpole-v1 -> CartPole-v1)."""
    lowered: dict[str, str] = {}
    for choice in choices:
        lowered.setdefault(choice.lower(), choice)
    return [lowered[c] for c in difflib.get_close_matches(value.lower(), list(lowered), n=n, cutoff=0.6)]
