"""`rlkit play` on a translation task: `rlkit play run=<seq2seq run> input="the dog sees a cat"` prints the
translation and writes the attention matrix as a heatmap PNG (``<out>/<checkpoint>_attention.png``).

An env translates typed text when it has ``translate_text(agent, text, out_dir, prefix) -> lines``
(rlkit.envs.translation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlkit.core.diskio import writing
from rlkit.core.errors import UserError


def play_translate(
    env: Any, opts: dict[str, str], agent: Any, random_policy: bool, out_dir: Path, prefix: str
) -> bool:
    """Translates opts["input"] with a trained agent when given and the env translates text; True when it
    did. input= is refused, in one line, for a random policy."""
    if "input" not in opts:
        return False
    if not callable(getattr(getattr(env, "unwrapped", env), "translate_text", None)):
        return False  # not a translation task: input= names files (rlkit.frontend.inputs, .classify)
    if random_policy:
        raise UserError("input= needs a trained run (run=<run dir>), not a random policy")
    with writing(out_dir):
        lines = env.unwrapped.translate_text(agent, opts["input"], out_dir, prefix)
    print("\n".join(lines), flush=True)
    return True
