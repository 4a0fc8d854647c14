"""`rlkit play run=<run> input=<file,file,...|folder>`: a trained model answers the user's own files.

An env takes inputs when it has ``answer_inputs(agent, paths, out_dir) -> list[Path]`` (a detection task
draws boxes on each image: rlkit.envs.detection). `input=` is a comma-separated list of files and folders (a
folder stands for its image files, sorted); it is refused, in one line, for other envs and without run=.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlkit.core.errors import UserError
from rlkit.envs.image_folder import IMAGE_SUFFIXES


def input_paths(spec: str) -> list[Path]:
    """The files `input=` names: each comma-separated entry a file, or a folder's image files (sorted)."""
    paths: list[Path] = []
    for entry in (e.strip() for e in spec.split(",")):
        path = Path(entry).expanduser()
        if not entry or not path.exists():
            raise UserError(f"input={spec}: {entry!r} does not exist (give image files or a folder of them)")
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise UserError(f"input={spec}: folder {path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
            paths += found
        else:
            paths.append(path)
    return paths


def play_inputs(env: Any, opts: dict[str, str], agent: Any, random_policy: bool, out_dir: Path) -> bool:
    """Answers `input=` with the env's answer_inputs (True when it did); refuses it where it cannot."""
    if "input" not in opts:
        return False
    if not callable(getattr(getattr(env, "unwrapped", env), "answer_inputs", None)):
        return False  # not a detection task: rlkit.frontend.classify answers (or refuses) input=
    if random_policy:
        raise UserError("input= needs a trained run (run=<run dir>), not a random policy")
    for path in env.unwrapped.answer_inputs(agent, input_paths(opts["input"]), out_dir):
        print(f"Wrote {path}", flush=True)
    return True
