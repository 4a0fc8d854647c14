"""`rlkit play` on a text task (Char-RNN, char_text): prints sampled text, as the book's sample.py does.

`rlkit play run=<char_rnn run> temperature=0.8 length=1000 prime="ROMEO:" seed=1` prints the prime followed by
`length` characters drawn one at a time with `temperature` (0: always the most likely). An env generates text
when it has ``sample_text(agent, length, temperature, prime, seed) -> str`` (rlkit.envs.char_text).
"""

from __future__ import annotations

from typing import Any

from rlkit.core.errors import UserError

SAMPLE_KEYS = {
    "temperature": "text tasks (char_text runs): sampling temperature >= 0, 0: the likeliest (default 1)",
    "length": "text tasks: characters generated after the prime (default 500)",
    "prime": "text tasks: the text the sample starts from (default: a newline)",
}
DEFAULTS = {"temperature": 1.0, "length": 500, "prime": "\n"}


def generates_text(env: Any) -> bool:
    """Whether `rlkit play` on this env prints generated text instead of playing episodes."""
    return callable(getattr(getattr(env, "unwrapped", env), "sample_text", None))


def sample_options(opts: dict[str, str]) -> dict[str, Any]:
    """temperature (float >= 0), length (int >= 1) and prime (non-empty) from play's key=value options."""
    out = dict(DEFAULTS)
    if "temperature" in opts:
        try:
            out["temperature"] = float(opts["temperature"])
        except ValueError:
            out["temperature"] = float("nan")
        if not out["temperature"] >= 0 or out["temperature"] == float("inf"):
            raise UserError(f"temperature={opts['temperature']} is invalid: it must be a number >= 0")
    if "length" in opts:
        try:
            out["length"] = int(opts["length"])
        except ValueError:
            out["length"] = 0
        if out["length"] < 1:
            raise UserError(f"length={opts['length']} is invalid: it must be an integer >= 1")
    if "prime" in opts:
        out["prime"] = opts["prime"]
        if not out["prime"]:
            raise UserError("prime= is empty: give the text the sample starts from, e.g. prime=ROMEO:")
    return out


def play_sample(
    env: Any, opts: dict[str, str], agent: Any, random_policy: bool, env_name: str, seed: int
) -> bool:
    """Prints text sampled from a trained agent when `env` generates text; True when it did. The sample keys
    (temperature=, length=, prime=) are refused, in one line, for any other env and for a random policy."""
    generates = not random_policy and generates_text(env)
    given = [key for key in SAMPLE_KEYS if key in opts]
    if given and not generates:
        what = f"a random policy on {env_name}" if random_policy else f"a run of {env_name}"
        raise UserError(
            f"{', '.join(k + '=' for k in given)}: only for a trained run of a text task (agent=char_rnn "
            f"env=char_text), but this is {what}"
        )
    if generates:
        text = env.unwrapped.sample_text(agent, seed=seed, **sample_options(opts))
        print(text, flush=True)
    return generates
