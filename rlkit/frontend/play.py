"""The `rlkit play` command: a run's greedy policy (or a random one on an env), rendering choice and output.

Text envs animate in the terminal; pixel envs are written as GIF/MP4 to <run dir>/videos/; render=human opens
the env's window where a display exists. Episodes are rlkit.core.evaluation.play_episode's, from the seeds
`rlkit eval` scores (rlkit.frontend.eval_command). Its keys are in rlkit.frontend.keyargs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.core.diskio import writing
from rlkit.core.errors import UserError, invalid_choice
from rlkit.core.evaluation import DEFAULT_MAX_EPISODE_STEPS, EVAL_SEED_OFFSET, play_episode
from rlkit.envs.factory import make_env
from rlkit.frontend.classify import play_classify
from rlkit.frontend.compose import compose_config
from rlkit.frontend.inputs import input_paths, play_inputs
from rlkit.frontend.keyargs import PLAY_KEYS, RENDERS, number, parse_args
from rlkit.frontend.runs import load_run
from rlkit.frontend.sample import play_sample
from rlkit.frontend.terminal import MODES, TerminalAnimation, status_line
from rlkit.frontend.translate import play_translate
from rlkit.frontend.video import has_display, headless_pixels, record_episode, render_modes
from rlkit.frontend.visualize import play_visualize


class RandomAgent:
    """Uniformly random actions from the env's action space (to look at an env without a trained run)."""

    def __init__(self, action_space: gym.Space, seed: int = 0):
        self.action_space = action_space
        self.action_space.seed(seed)

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """One random action per observation in the batch."""
        return np.asarray([self.action_space.sample() for _ in range(len(obs))])


def choose_render(requested: str, modes: list[str], display: bool) -> tuple[str, tuple[str, ...], str]:
    """(kind, video formats, note): kind is text, window or video; the note says why, when it is not asked."""
    if requested not in RENDERS:
        raise invalid_choice(f"render={requested}", RENDERS)
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
    agent = RandomAgent(env.action_space, seed=number(opts, "seed", int, 0))
    env.close()
    return cfg, agent, "random", 0, Path("runs") / "play" / cfg.env.name


def play_command(args: list[str]) -> int:
    """`rlkit play`: greedy (or random) episodes, animated in the terminal or written as GIF/MP4."""
    opts, env_overrides = parse_args("play", args, PLAY_KEYS)
    cfg, agent, prefix, default_seed, default_out = _setup(opts, env_overrides)
    if opts.get("ui", "auto") not in MODES:
        raise invalid_choice(f"ui={opts['ui']}", MODES)
    probe = make_env(cfg.env, evaluation=True)
    modes, env_fps = render_modes(probe), probe.metadata.get("render_fps") or 30
    writes_files = callable(getattr(probe.unwrapped, "rollout_files", None))
    translates = writes_files and callable(getattr(probe.unwrapped, "translate_files", None))  # input= below
    seed = number(opts, "seed", int, default_seed)
    sampled = play_sample(probe, opts, agent, prefix == "random", cfg.env.name, seed)  # text tasks
    out = Path(opts["out"]) if "out" in opts else default_out
    if not sampled and "show" in opts:  # show=saliency,fooling,classes: pictures of what the network sees
        run_dir = None if prefix == "random" else Path(opts["run"])
        sampled = play_visualize(probe, opts, agent, run_dir, out)
    sampled = sampled or play_translate(probe, opts, agent, prefix == "random", out, prefix)  # a sentence
    sampled = sampled or play_inputs(probe, opts, agent, prefix == "random", out)  # input=: detection
    if not translates:  # input= for a classifier (a translation run's input= is answered below)
        sampled = sampled or play_classify(probe, opts, agent, prefix == "random", cfg.env.name, out)
    probe.close()
    if sampled:
        return 0
    kind, formats, note = choose_render(opts.get("render", "auto"), modes, has_display())
    if note:
        print(f"rlkit play: {note}", flush=True)
    policy = "random policy" if prefix == "random" else f"{cfg.agent.name} ({prefix} checkpoint)"
    episodes = number(opts, "episodes", int, 1, 1)
    plan = Plan(
        title=f"{policy} on {cfg.env.name}",
        episodes=episodes,
        seed=seed,
        max_steps=number(opts, "max_steps", int, DEFAULT_MAX_EPISODE_STEPS, 1),
    )
    if kind == "text":
        speed = number(opts, "speed", float, 1.0 / env_fps if sys.stdout.isatty() else 0.0, 0.0)
        env = make_env(cfg.env, render_mode="ansi", evaluation=True)
        _play_text(agent, env, plan, opts.get("ui", "auto"), speed)
    elif kind == "window":
        env = make_env(cfg.env, render_mode="human", evaluation=True)
        _play_window(agent, env, plan)
    else:
        headless_pixels()
        env = make_env(cfg.env, render_mode="rgb_array", evaluation=True)
        out_dir = Path(opts["out"]) if "out" in opts else default_out
        fps, scale = number(opts, "fps", float, float(env_fps), 1e-3), number(opts, "scale", int, 1, 1)
        _play_video(agent, env, plan, out_dir, prefix, formats, fps, scale)
    if writes_files and prefix != "random":
        out_dir = Path(opts["out"]) if "out" in opts else default_out
        _write_rollout_files(agent, cfg, out_dir, prefix, opts.get("input"))
    return 0


def _write_rollout_files(agent: Any, cfg: Any, out_dir: Path, prefix: str, inputs: str | None = None) -> None:
    """Files an env writes about a trained agent besides episodes: env.rollout_files(agent, out_dir, prefix)
    (word2vec: the nearest-neighbour report and the 2-D map of the embeddings); with `inputs` (input=), an
    image translation env's translate_files(agent, out_dir, prefix, inputs) instead."""
    env = make_env(cfg.env, evaluation=True)
    try:
        with writing(out_dir):
            if inputs:
                paths = env.unwrapped.translate_files(agent, out_dir, prefix, input_paths(inputs))
            else:
                paths = env.unwrapped.rollout_files(agent, out_dir, prefix)
            for path in paths:
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
