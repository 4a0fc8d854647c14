"""Rollouts of a trained run: load its config and checkpoint, play greedy episodes, collect rendered frames.

A run is rebuilt exactly as training built it: the config is composed again from the run's saved overrides
(.hydra/overrides.yaml, so each agent and env gets its typed schema back) and the resolved values Hydra saved
(.hydra/config.yaml) are merged on top; the agent comes from rlkit.frontend.app.build_agent and the checkpoint's
agent state. Episode k of a rollout starts from env.reset(seed=seed + k), as in rlkit.core.evaluation.evaluate,
so `rlkit play` shows the very episodes `rlkit eval` scores with the same seed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from omegaconf import DictConfig, OmegaConf

from rlkit.core.errors import UserError
from rlkit.core.evaluation import EVAL_SEED_OFFSET  # noqa: F401  (re-exported for play and eval)
from rlkit.core.types import Agent

CHECKPOINTS = ("latest", "best")
MAX_STEPS = 10_000  # a rollout's step cap, for envs without an episode cap (frames are kept in memory)


@dataclass
class LoadedRun:
    """A run directory's config and its agent with the checkpoint's weights."""

    run_dir: Path
    cfg: DictConfig
    agent: Agent
    checkpoint: Path
    step: int | None  # env steps trained when the checkpoint was written


@dataclass
class Episode:
    """One played episode: its return, its length and the frames rendered (empty when not rendering)."""

    ret: float = 0.0
    length: int = 0
    frames: list[Any] = field(default_factory=list)


class RandomAgent:
    """Uniformly random actions from the env's action space (to look at an env without a trained run)."""

    def __init__(self, action_space: gym.Space, seed: int = 0):
        self.action_space = action_space
        self.action_space.seed(seed)

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """One random action per observation in the batch."""
        return np.asarray([self.action_space.sample() for _ in range(len(obs))])


# ----- loading a run -------------------------------------------------------------------------------------
def load_run_config(run_dir: Path) -> DictConfig:
    """The run's resolved config, typed by the same schemas training used."""
    import yaml

    from rlkit.frontend.compose import compose_config
    from rlkit.frontend.rundir import upgrade_override, upgrade_saved_config

    if not run_dir.exists():
        raise UserError(f"run directory {run_dir} does not exist")
    if not run_dir.is_dir():
        raise UserError(f"run={run_dir} is a file; give the run's directory")
    saved_path = run_dir / ".hydra" / "config.yaml"
    if not saved_path.is_file():
        raise UserError(f"{run_dir} is not an rlkit run directory: it has no .hydra/config.yaml")
    overrides_path = run_dir / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_path.read_text(encoding="utf-8")) if overrides_path.is_file() else []
    try:
        # a resume= there was written by older resumes, which rewrote .hydra/: it is not config
        saved = [upgrade_override(str(o)) for o in overrides or []]
        cfg = compose_config([o for o in saved if not o.startswith("resume=")])
        OmegaConf.set_struct(cfg, True)
        return OmegaConf.merge(cfg, upgrade_saved_config(OmegaConf.load(saved_path)))
    except UserError as err:
        raise UserError(f"the config of run {run_dir} no longer composes: {err}") from err
    except Exception as err:  # a saved value that does not fit today's schema
        reason = one_line(str(err)) or type(err).__name__
        raise UserError(f"the config of run {run_dir} does not fit rlkit's schema: {reason}") from err


def checkpoint_path(run_dir: Path, which: str = "latest") -> Path:
    """checkpoints/<latest|best>.pt of a run (or a .pt file named directly), which must exist."""
    if which in CHECKPOINTS:
        path = run_dir / "checkpoints" / f"{which}.pt"
    elif which.endswith(".pt"):
        path = Path(which)
    else:
        raise UserError(f"checkpoint={which} is invalid: valid values are latest, best, or a .pt file")
    if not path.is_file():
        found = sorted(p.stem for p in (run_dir / "checkpoints").glob("*.pt"))
        held = f"it holds: {', '.join(found)}" if found else "it holds no checkpoint (did training start?)"
        raise UserError(f"no checkpoint '{which}' in run {run_dir} ({path} does not exist); {held}")
    return path


def load_run_checkpoint(run_dir: Path, which: str = "latest") -> tuple[dict[str, Any], Path]:
    """(state, path) of a run's checkpoint; `latest` falls back to the newest good one, as resume does."""
    from rlkit.core.checkpoint import Checkpointer, load_checkpoint

    ckpt_dir = run_dir / "checkpoints"
    if which == "latest" and any(ckpt_dir.glob("*.pt")):
        return Checkpointer(ckpt_dir).load_latest()
    path = checkpoint_path(run_dir, which)
    return load_checkpoint(path), path


def load_run(run_dir: Path, checkpoint: str = "latest") -> LoadedRun:
    """The run's config and agent, with the agent state of its `checkpoint` (latest, best or a .pt path)."""
    from rlkit.envs.factory import make_env
    from rlkit.frontend.app import build_agent

    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    state, path = load_run_checkpoint(run_dir, checkpoint)
    env = make_env(cfg.env, evaluation=True)
    try:
        agent = build_agent(cfg, env.observation_space, env.action_space)
    finally:
        env.close()
    try:
        agent.load_state_dict(state["agent"])
    except Exception as err:  # shape mismatch, missing keys, wrong types: all one message
        text = one_line(str(err))
        cause = err.__cause__
        if cause is not None and str(cause).strip():  # an agent's short message over torch's full list
            first = str(cause).strip().splitlines()[0].strip()
            text = text[: -len(first)] + one_line(str(cause)) if text.endswith(first) else text
        reason = f"missing key {text}" if isinstance(err, KeyError) else text or type(err).__name__
        raise UserError(f"checkpoint {path} does not fit its config: {reason}") from err
    step = state.get("runner", {}).get("step")
    return LoadedRun(run_dir, cfg, agent, path, int(step) if step is not None else None)


def one_line(text: str, limit: int = 400) -> str:
    """A multi-line message (torch's load_state_dict lists every mismatch) as one line of at most `limit`."""
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return line if len(line) <= limit else line[: limit - 3] + "..."


# ----- playing -------------------------------------------------------------------------------------------
def render_modes(env: gym.Env) -> list[str]:
    """The render modes an env declares."""
    return list(env.metadata.get("render_modes", []))


def has_display() -> bool:
    """Whether a window can open: always on macOS and Windows, with $DISPLAY or $WAYLAND_DISPLAY elsewhere."""
    import sys

    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def headless_pixels() -> None:
    """Lets pygame-drawn envs (classic control, toy text) render rgb_array frames without a display."""
    if not has_display():
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def play_episode(
    agent: Agent,
    env: gym.Env,
    seed: int,
    on_frame: Callable[[Any, int, float | None, float], None] | None = None,
    keep_frames: bool = False,
    max_steps: int = MAX_STEPS,
) -> Episode:
    """Plays one greedy episode from env.reset(seed=seed), rendering after the reset and after every step.

    `on_frame(frame, step, reward, return_so_far)` sees each rendered frame (reward is None at the reset);
    with `keep_frames` the frames are kept too. An env without a render mode renders nothing.
    """
    ep = Episode()
    obs, _ = env.reset(seed=seed)

    def _render(reward: float | None) -> None:
        if env.render_mode is None or env.render_mode == "human":
            return
        frame = env.render()
        if keep_frames:
            ep.frames.append(frame)
        if on_frame is not None:
            on_frame(frame, ep.length, reward, ep.ret)

    _render(None)
    done = False
    while not done and ep.length < max_steps:
        action = agent.act(np.asarray(obs)[None], explore=False)[0]
        obs, reward, terminated, truncated, _ = env.step(action)
        ep.ret += float(reward)
        ep.length += 1
        done = terminated or truncated
        _render(float(reward))
    return ep


def record_episode(
    agent: Agent,
    env: gym.Env,
    seed: int,
    out_dir: Path,
    prefix: str,
    episode: int,
    fps: float,
    scale: int = 1,
    formats: tuple[str, ...] = ("gif", "mp4"),
    max_steps: int = MAX_STEPS,
) -> tuple[Episode, list[Path], np.ndarray]:
    """Plays a greedy episode on an rgb_array env and writes it as GIF/MP4 named with episode and return."""
    from rlkit.frontend.video import as_frames, video_stem, write_videos

    try:
        ep = play_episode(agent, env, seed, keep_frames=True, max_steps=max_steps)
    except gym.error.DependencyNotInstalled as err:  # e.g. classic control draws its frames with pygame
        name = env.spec.id if env.spec else type(env.unwrapped).__name__
        raise UserError(f"env '{name}' cannot render frames here: {str(err).splitlines()[0]}") from err
    frames = as_frames(ep.frames, scale)
    ep.frames = []
    paths = write_videos(out_dir, video_stem(prefix, episode, ep.ret), frames, fps, formats)
    return ep, paths, frames


def record_training_video(
    agent: Agent,
    make_env: Callable[..., gym.Env],
    run_dir: Path,
    step: int,
    logger: Any,
    fps: float,
    scale: int,
    seed: int,
) -> Path:
    """Records one greedy episode during training: GIF + MP4 in <run_dir>/videos/, a GIF in TensorBoard.

    `make_env(render_mode=...)` builds the evaluation env; `logger.log_video` (if the logger has it) gets the
    frames under the tag eval/video at `step`. Returns the GIF's path.
    """
    headless_pixels()
    env = make_env(render_mode="rgb_array")
    try:
        _require_rgb_array(env)
        _, paths, frames = record_episode(
            agent, env, seed, Path(run_dir) / "videos", f"train_step{step:09d}", 0, fps, scale
        )
    finally:
        env.close()
    if hasattr(logger, "log_video"):
        logger.log_video("eval/video", frames, step, fps)
    return paths[0]


def check_video_env(make_env: Callable[..., gym.Env]) -> None:
    """Fails fast, before training, when video.every is set on an env that cannot render rgb_array frames."""
    env = make_env(render_mode=None)
    try:
        _require_rgb_array(env)
    finally:
        env.close()


def _require_rgb_array(env: gym.Env) -> None:
    if "rgb_array" not in render_modes(env):
        raise UserError(
            f"video.every needs an env that renders rgb_array frames; this one renders: "
            f"{', '.join(render_modes(env)) or 'nothing'} (set video.every=0)"
        )
