"""The key=value arguments of `rlkit play` and `rlkit eval`: their keys, `--help` text and parsing.

Light on imports, so `rlkit play --help` does not load torch.
"""

from __future__ import annotations

from typing import Any

from rlkit.core.errors import UserError
from rlkit.core.evaluation import DEFAULT_MAX_EPISODE_STEPS
from rlkit.frontend.sample import SAMPLE_KEYS

CLASSIFY_KEYS = {  # rlkit.frontend.classify's (here: that module imports the envs, too heavy for --help)
    "input": 'a sentence for a seq2seq run (input="the dog sees a cat"), else images or folders, comma-'
    "separated: classifiers print top classes, translators and detectors write pictures",
    "top": "with input=: how many classes to print per image (default 5, the book's)",
    "show": "image classifier runs: saliency,fooling,classes,dream,style: pictures to <run>/videos",
    "style": "with show=style: the style image (input= is the content image)",
    "layer": "with show=dream: the index in the network's features of the layer dreamt on (default: middle)",
    "channel": "with show=dream: the channel of that layer (default 0)",
    "size": "with show=dream|style: the image side in pixels (default 128)",
    "target": "with show=fooling: the class fooling images aim at (default: the one after the prediction)",
}

RENDERS = ("auto", "text", "gif", "mp4", "both", "human")
PLAY_KEYS = {
    "run": "a run directory (runs/<date>/<time>_<agent>_<env>); its greedy policy plays",
    "env": "instead of run=: an env (maze, CartPole-v1, ...; env.<key>=value too) played by a random policy",
    "checkpoint": "latest (default), best, or a path to a .pt file",
    "episodes": "episodes to play (default 1)",
    "seed": "episode k starts from reset(seed=seed+k) (default: the run's evaluation seeds; 0 with env=)",
    "render": f"{'|'.join(RENDERS)} (auto: text animation where the env renders text, else GIF and MP4)",
    "speed": "seconds per frame of the text animation (default: the env's render_fps on a terminal, else 0)",
    "ui": "auto|rich|plain: text animation redrawn in place (rich) or printed frame after frame (plain)",
    "fps": "frames per second of GIF/MP4 (default: the env's render_fps, else 30)",
    "scale": "integer upscaling of GIF/MP4 frames (default 1)",
    "out": "folder for GIF/MP4 (default <run dir>/videos, or runs/play/<env> with env=)",
    "max_steps": f"step cap per episode, for envs without one (default {DEFAULT_MAX_EPISODE_STEPS})",
    **SAMPLE_KEYS,
    **CLASSIFY_KEYS,
}
EVAL_KEYS = {
    "run": "a run directory (required)",
    "checkpoint": "latest (default), best, or a path to a .pt file",
    "episodes": "greedy episodes (default: as many as the run evaluated, env.eval_episodes or eval.episodes)",
    "seed": "episode k starts from reset(seed=seed+k) (default: the seeds the run's own evaluations used)",
    "out": "where to write the JSON (default <run dir>/eval.json)",
    "max_steps": "step cap per episode where the env has none (default: the run's eval.max_episode_steps)",
    "ui": "progress on stderr: auto (a bar on a terminal, else a line every 5 s), rich, plain or none",
}


def command_help(command: str) -> str:
    """Text of `rlkit play --help` / `rlkit eval --help`."""
    keys = PLAY_KEYS if command == "play" else EVAL_KEYS
    lines = [f"usage: rlkit {command} key=value ...", "", "keys:"]
    lines += [f"  {key:<11} {text}" for key, text in keys.items()]
    examples = {
        "play": [
            "rlkit play run=runs/2026-11-25/08-29-01_q_learning_maze          # the maze, in the terminal",
            "rlkit play run=<run dir> checkpoint=best episodes=3 render=gif scale=2",
            "rlkit play env=CartPole-v1 episodes=2                           # a random policy, as GIF+MP4",
            'rlkit play run=<char_rnn run> temperature=0.8 length=1000 prime="ROMEO:"  # generated text',
        ],
        "eval": ["rlkit eval run=<run dir> episodes=100 seed=0"],
    }[command]
    return "\n".join([*lines, "", "examples:", *[f"  {ex}" for ex in examples]])


def parse_args(command: str, args: list[str], keys: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """key=value arguments -> (known keys, env overrides); anything else is refused with the valid keys."""
    opts: dict[str, str] = {}
    env_overrides: list[str] = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if command == "play" and sep and (key == "env" or key.startswith("env.")):
            env_overrides.append(arg)
        elif sep and key in keys:
            opts[key] = value
        else:
            what = f"unknown key '{key}'" if sep else f"'{arg}' is not key=value"
            raise UserError(f"{what} for `rlkit {command}`; valid keys: {', '.join(keys)}")
    return opts, env_overrides


def number(opts: dict[str, str], key: str, kind: type, default: Any, minimum: float | None = None) -> Any:
    """opts[key] as int or float, at least `minimum` (if given); the default when absent."""
    if key not in opts:
        return default
    try:
        value = kind(opts[key])
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise UserError(f"{key}={opts[key]} is invalid: it must be {noun}") from None
    if minimum is not None and value < minimum:
        raise UserError(f"{key}={opts[key]} is invalid: it must be >= {minimum:g}")
    return value
