"""Rendered frames to files: animated GIF (Pillow) and MP4 (imageio's ffmpeg), integer upscaling, file names;
recording greedy episodes (rlkit play's GIF/MP4, training videos) and whether a display exists.

Frames are (T, H, W, 3) uint8 RGB arrays, as `env.render()` returns them in "rgb_array" mode.
GIF delays are stored in hundredths of a second, so the frame duration is rounded to 10 ms (and browsers
slow down delays under 20 ms, hence the floor). Pillow stores a run of identical frames once, with their
durations added up: the animation plays for the same time with fewer stored frames.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.core.diskio import writing
from rlkit.core.errors import UserError
from rlkit.core.evaluation import DEFAULT_MAX_EPISODE_STEPS, Episode, play_episode
from rlkit.core.gif import gif_bytes, gif_frame_ms  # noqa: F401  (part of this module's API)
from rlkit.core.types import Agent

FORMATS = ("gif", "mp4")


def upscale(frame: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour integer upscaling of an (H, W, C) frame: each pixel becomes a scale x scale block."""
    if scale == 1:
        return frame
    return np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)


def as_frames(frames: Sequence[np.ndarray] | np.ndarray, scale: int = 1) -> np.ndarray:
    """Stacks rendered frames into one (T, H, W, 3) uint8 array, upscaled by `scale`."""
    if scale < 1:
        raise UserError(f"scale={scale} is invalid: it must be an integer >= 1")
    if len(frames) == 0:
        raise UserError("no frames to write: the env rendered nothing")
    stack = np.stack([upscale(np.asarray(f, dtype=np.uint8), scale) for f in frames])
    if stack.ndim != 4 or stack.shape[-1] != 3:
        raise UserError(f"frames must be (T, H, W, 3) RGB images, got shape {stack.shape}")
    return stack


def write_gif(path: Path, frames: np.ndarray, fps: float) -> Path:
    """Writes the frames as an animated GIF."""
    data = gif_bytes(frames, fps)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path


def even_pad(frames: np.ndarray) -> np.ndarray:
    """Pads height and width to even sizes by repeating the last row/column (H.264 in yuv420p needs it)."""
    _, h, w, _ = frames.shape
    if h % 2 == 0 and w % 2 == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def write_mp4(path: Path, frames: np.ndarray, fps: float) -> Path:
    """Writes the frames as an H.264 MP4 (yuv420p, plays everywhere); odd sizes get a padded row/column."""
    import imageio.v2 as imageio  # imageio and its ffmpeg plugin: only when an MP4 is written

    frames = even_pad(frames)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_mp4_frames(imageio, path, frames, fps)
    return path


def _write_mp4_frames(imageio, path: Path, frames: np.ndarray, fps: float) -> None:
    writer = imageio.get_writer(
        path,
        format="FFMPEG",
        mode="I",
        fps=fps,
        codec="libx264",
        pixelformat="yuv420p",
        macro_block_size=1,  # keep the size as it is: no rescaling to multiples of 16
        ffmpeg_log_level="error",
    )
    try:
        for frame in frames:
            writer.append_data(frame)
    finally:
        writer.close()


def video_stem(prefix: str, episode: int, ret: float) -> str:
    """A file name stem that says which episode and what it returned, e.g. latest_ep002_return21."""
    return f"{prefix}_ep{episode:03d}_return{ret:g}"


def write_videos(
    out_dir: Path, stem: str, frames: np.ndarray, fps: float, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Writes <out_dir>/<stem>.gif and/or .mp4; returns the paths written."""
    writers = {"gif": write_gif, "mp4": write_mp4}
    return [writers[fmt](out_dir / f"{stem}.{fmt}", frames, fps) for fmt in formats]


# ----- recording greedy episodes ------------------------------------------------------------------------
def render_modes(env: gym.Env) -> list[str]:
    """The render modes an env declares."""
    return list(env.metadata.get("render_modes", []))


def has_display() -> bool:
    """Whether a window can open: always on macOS and Windows, with $DISPLAY or $WAYLAND_DISPLAY elsewhere."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def headless_pixels() -> None:
    """Lets pygame-drawn envs (classic control, toy text) render rgb_array frames without a display."""
    if not has_display():
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


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
    max_steps: int = DEFAULT_MAX_EPISODE_STEPS,
) -> tuple[Episode, list[Path], np.ndarray]:
    """Plays a greedy episode on an rgb_array env and writes it as GIF/MP4 named with episode and return."""
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
