"""The `rlkit play` and `rlkit eval` commands: key=value arguments, rendering choice, output and eval.json.

play: text envs animate in the terminal; pixel envs are written as GIF/MP4 to <run dir>/videos/; render=human
opens the env's window where a display exists. eval: greedy episodes scored by rlkit.core.evaluation.evaluate,
printed as a table and written to eval.json, so the same seed gives the same numbers.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.core.diskio import write_text, writing
from rlkit.core.errors import UserError
from rlkit.core.evaluation import DEFAULT_MAX_EPISODE_STEPS, EVAL_SEED_OFFSET, play_episode
from rlkit.frontend.runs import load_run
from rlkit.frontend.sample import SAMPLE_KEYS, play_sample
from rlkit.frontend.video import has_display, headless_pixels, record_episode, render_modes

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


class RandomAgent:
    """Uniformly random actions from the env's action space (to look at an env without a trained run)."""

    def __init__(self, action_space: gym.Space, seed: int = 0):
        self.action_space = action_space
        self.action_space.seed(seed)

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """One random action per observation in the batch."""
        return np.asarray([self.action_space.sample() for _ in range(len(obs))])


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


def _number(opts: dict[str, str], key: str, kind: type, default: Any, minimum: float | None = None) -> Any:
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


def choose_render(requested: str, modes: list[str], display: bool) -> tuple[str, tuple[str, ...], str]:
    """(kind, video formats, note): kind is text, window or video; the note says why, when it is not asked."""
    if requested not in RENDERS:
        raise UserError(f"render={requested} is invalid: valid values are {', '.join(RENDERS)}")
    pixels, text = "rgb_array" in modes, "ansi" in modes
    available = f"it renders: {', '.join(modes) or 'nothing'}"
    if requested in ("auto", "human") and text:
        return "text", (), ""
    if requested == "human" and "human" in modes and display:
        return "window", (), ""
    if requested == "text":
        if text:
            return "text", (), ""
        raise UserError(f"render=text needs an env that renders text (ansi); {available}")
    if not pixels:
        raise UserError(f"render={requested} needs an env that renders rgb_array frames; {available}")
    formats = {"gif": ("gif",), "mp4": ("mp4",)}.get(requested, ("gif", "mp4"))
    note = "no display here ($DISPLAY is not set): recording GIF and MP4 instead"
    note = note if requested == "human" else ""
    return "video", formats, note


def _setup(opts: dict[str, str], env_overrides: list[str]) -> tuple[Any, Any, str, int, Path]:
    """(cfg, agent, file prefix, default seed, out dir) of a run, or of an env and a random policy."""
    from rlkit.envs.factory import make_env
    from rlkit.frontend.compose import compose_config

    if "run" in opts:
        if env_overrides:
            raise UserError("`rlkit play` takes run=<run dir> or env=<env>, not both (a run brings its env)")
        which = opts.get("checkpoint", "latest")
        loaded = load_run(Path(opts["run"]), which)
        prefix = which if which in ("latest", "best") else Path(which).stem
        seed = loaded.cfg.seed + EVAL_SEED_OFFSET
        return loaded.cfg, loaded.agent, prefix, seed, loaded.run_dir / "videos"
    if not any(o.startswith("env=") for o in env_overrides):
        raise UserError("`rlkit play` needs run=<run dir> (a trained policy) or env=<env> (a random policy)")
    if "checkpoint" in opts:
        raise UserError("checkpoint= needs run=<run dir>")
    cfg = compose_config(env_overrides)
    env = make_env(cfg.env)
    agent = RandomAgent(env.action_space, seed=_number(opts, "seed", int, 0))
    env.close()
    return cfg, agent, "random", 0, Path("runs") / "play" / cfg.env.name


def play_command(args: list[str]) -> int:
    """`rlkit play`: greedy (or random) episodes, animated in the terminal or written as GIF/MP4."""
    from rlkit.envs.factory import make_env
    from rlkit.frontend.terminal import MODES

    opts, env_overrides = parse_args("play", args, PLAY_KEYS)
    cfg, agent, prefix, default_seed, default_out = _setup(opts, env_overrides)
    if opts.get("ui", "auto") not in MODES:
        raise UserError(f"ui={opts['ui']} is invalid: valid values are {', '.join(MODES)}")
    probe = make_env(cfg.env, evaluation=True)
    modes, env_fps = render_modes(probe), probe.metadata.get("render_fps") or 30
    writes_files = callable(getattr(probe.unwrapped, "rollout_files", None))
    seed = _number(opts, "seed", int, default_seed)
    sampled = play_sample(probe, opts, agent, prefix == "random", cfg.env.name, seed)  # text tasks
    probe.close()
    if sampled:
        return 0
    kind, formats, note = choose_render(opts.get("render", "auto"), modes, has_display())
    if note:
        print(f"rlkit play: {note}", flush=True)
    policy = "random policy" if prefix == "random" else f"{cfg.agent.name} ({prefix} checkpoint)"
    episodes = _number(opts, "episodes", int, 1, 1)
    plan = Plan(
        title=f"{policy} on {cfg.env.name}",
        episodes=episodes,
        seed=seed,
        max_steps=_number(opts, "max_steps", int, DEFAULT_MAX_EPISODE_STEPS, 1),
    )
    if kind == "text":
        speed = _number(opts, "speed", float, 1.0 / env_fps if sys.stdout.isatty() else 0.0, 0.0)
        env = make_env(cfg.env, render_mode="ansi", evaluation=True)
        _play_text(agent, env, plan, opts.get("ui", "auto"), speed)
    elif kind == "window":
        env = make_env(cfg.env, render_mode="human", evaluation=True)
        _play_window(agent, env, plan)
    else:
        headless_pixels()
        env = make_env(cfg.env, render_mode="rgb_array", evaluation=True)
        out_dir = Path(opts["out"]) if "out" in opts else default_out
        fps, scale = _number(opts, "fps", float, float(env_fps), 1e-3), _number(opts, "scale", int, 1, 1)
        _play_video(agent, env, plan, out_dir, prefix, formats, fps, scale)
    if writes_files and prefix != "random":
        _write_rollout_files(agent, cfg, Path(opts["out"]) if "out" in opts else default_out, prefix)
    return 0


def _write_rollout_files(agent: Any, cfg: Any, out_dir: Path, prefix: str) -> None:
    """Files an env writes about a trained agent besides episodes: env.rollout_files(agent, out_dir, prefix)
    (word2vec: the nearest-neighbour report and the 2-D map of the embeddings)."""
    from rlkit.envs.factory import make_env

    env = make_env(cfg.env, evaluation=True)
    try:
        with writing(out_dir):
            for path in env.unwrapped.rollout_files(agent, out_dir, prefix):
                print(f"Wrote {path}", flush=True)
    finally:
        env.close()


@dataclass
class Plan:
    """What to play: a title, how many episodes from which seed, and the step cap."""

    title: str
    episodes: int
    seed: int
    max_steps: int

    def heading(self) -> str:
        """The first line printed."""
        return f"{self.title}: {self.episodes} episode(s) from seed {self.seed}"

    def result(self, k: int, ep: Any) -> str:
        """An episode's line."""
        return f"episode {k + 1}/{self.episodes}: return {ep.ret:g}, length {ep.length}"


def _play_text(agent: Any, env: Any, plan: Plan, ui: str, speed: float) -> None:
    """Episodes animated in the terminal, a status line under the board."""
    from rlkit.frontend.terminal import TerminalAnimation, status_line

    anim = TerminalAnimation(ui, speed)
    anim.start(plan.heading())
    try:
        for k in range(plan.episodes):

            def show(frame: str, step: int, reward: float | None, ret: float, k: int = k) -> None:
                anim.show(frame, status_line(k, plan.episodes, step, reward, ret))

            ep = play_episode(agent, env, plan.seed + k, on_frame=show, max_steps=plan.max_steps)
            anim.message(plan.result(k, ep))
    finally:
        anim.stop()
        env.close()


def _play_window(agent: Any, env: Any, plan: Plan) -> None:
    """Episodes in the env's own window (render_mode human)."""
    print(plan.heading(), flush=True)
    try:
        for k in range(plan.episodes):
            ep = play_episode(agent, env, plan.seed + k, max_steps=plan.max_steps)
            print(plan.result(k, ep), flush=True)
    finally:
        env.close()


def _play_video(
    agent: Any,
    env: Any,
    plan: Plan,
    out_dir: Path,
    prefix: str,
    formats: tuple[str, ...],
    fps: float,
    scale: int,
) -> None:
    """Episodes written as GIF and/or MP4, one file per episode and format."""
    print(plan.heading(), flush=True)
    try:
        for k in range(plan.episodes):
            ep, paths, frames = record_episode(
                agent, env, plan.seed + k, out_dir, prefix, k, fps, scale, formats, plan.max_steps
            )
            size = f"{frames.shape[0]} frames of {frames.shape[2]}x{frames.shape[1]}"
            print(f"{plan.result(k, ep)} -> {', '.join(str(p) for p in paths)} ({size})", flush=True)
    finally:
        env.close()


def eval_command(args: list[str]) -> int:
    """`rlkit eval`: greedy episodes of a run's checkpoint, a table on stdout and eval.json."""
    from rlkit.core.evaluation import evaluate
    from rlkit.core.headline import headline_of
    from rlkit.envs.factory import make_env
    from rlkit.frontend.ui import EpisodeProgress

    opts, _ = parse_args("eval", args, EVAL_KEYS)
    if "run" not in opts:
        raise UserError("`rlkit eval` needs run=<run dir>")
    which = opts.get("checkpoint", "latest")
    loaded = load_run(Path(opts["run"]), which)
    cfg = loaded.cfg
    episodes = _number(opts, "episodes", int, cfg.env.eval_episodes or cfg.eval.episodes, 1)
    seed = _number(opts, "seed", int, cfg.seed + EVAL_SEED_OFFSET)
    max_steps = _number(opts, "max_steps", int, cfg.eval.max_episode_steps, 1)
    ui = _eval_ui(opts.get("ui", "auto"))
    out = Path(opts["out"]) if "out" in opts else loaded.run_dir / "eval.json"
    with writing(out, "choose another out="):  # fails now, not after the episodes
        out.parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out.parent).close()
    env = make_env(cfg.env, evaluation=True)
    title = f"evaluating {cfg.agent.name} on {cfg.env.name}: {episodes:,} greedy episodes"
    progress = EpisodeProgress(ui, title)
    try:
        result = evaluate(loaded.agent, env, episodes, seed, max_steps, progress)
        headline = headline_of(env)
    finally:
        progress.close()
        env.close()
    record = {
        "headline": headline.record(result.summary()),
        "run_dir": str(loaded.run_dir),
        "checkpoint": str(loaded.checkpoint),
        "checkpoint_step": loaded.step,
        "agent": cfg.agent.name,
        "env": cfg.env.name,
        "seed": seed,
        **result.as_dict(),
    }
    write_text(out, json.dumps(record, indent=2) + "\n", "choose another out=")
    print(eval_table(record), file=sys.stdout, flush=True)
    print(f"Wrote {out}", flush=True)
    return 0


def _eval_ui(mode: str) -> Any:
    """The progress display of `rlkit eval`, on stderr (stdout keeps the table)."""
    from rlkit.frontend.ui import make_ui

    modes = ("auto", "rich", "plain", "none")
    if mode not in modes:
        raise UserError(f"ui={mode} is invalid: valid values are {', '.join(modes)}")
    return make_ui(mode, stream=sys.stderr)


def eval_table(record: dict[str, Any]) -> str:
    """The evaluation as a small fixed-width table: returns for RL, the task's headline metric first else."""
    from rlkit.core.headline import RETURN, Headline, task_metrics

    step = record["checkpoint_step"]
    at = f", trained {step:,} steps" if step is not None else ""
    n, last = record["episodes"], record["seed"] + record["episodes"] - 1
    headline = Headline.from_record(record.get("headline"))
    task = headline.key != RETURN.key
    what = f"{n} pass{'es' * (n != 1)} over the evaluation split" if task else f"{n} greedy episodes"
    head = (
        f"{record['agent']} on {record['env']} ({Path(record['checkpoint']).name}{at}): "
        f"{what}, seeds {record['seed']}..{last}"
    )
    if task:
        rows = [(headline.name, record.get(headline.key, float("nan")))]
        rows += list(task_metrics(record.get("metrics", {}), headline).items())
        width = max(len(name) for name, _ in rows)
        return "\n".join([head, *[f"  {name:<{width}} {value:>10.4f}" for name, value in rows]])
    rows = [
        ("return mean", record["return_mean"]),
        ("return std", record["return_std"]),
        ("return min", record["return_min"]),
        ("return max", record["return_max"]),
        ("length mean", record["length_mean"]),
        ("truncated", record["truncated"]),
    ]
    return "\n".join([head, *[f"  {name:<12} {value:>12.2f}" for name, value in rows]])
