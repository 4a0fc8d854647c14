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

TRANSLATE_KEYS = {
    "input": 'translation tasks (seq2seq runs): a sentence to translate, e.g. input="the dog sees a cat"'
}


def play_translate(
    env: Any, opts: dict[str, str], agent: Any, random_policy: bool, out_dir: Path, prefix: str
) -> bool:
    """Translates opts["input"] with a trained agent when given; True when it did. input= is refused, in
    one line, for an env that does not translate and for a random policy."""
    if "input" not in opts:
        return False
    translates = callable(getattr(getattr(env, "unwrapped", env), "translate_text", None))
    if random_policy or not translates:
        raise UserError(
            "input=: only for a trained run of a translation task (agent=seq2seq env=translation)"
        )
    with writing(out_dir):
        lines = env.unwrapped.translate_text(agent, opts["input"], out_dir, prefix)
    print("\n".join(lines), flush=True)
    return True
