"""Rendered frames to files: animated GIF (Pillow) and MP4 (imageio's ffmpeg), integer upscaling, file names.

Frames are (T, H, W, 3) uint8 RGB arrays, as `env.render()` returns them in "rgb_array" mode.
GIF delays are stored in hundredths of a second, so the frame duration is rounded to 10 ms (and browsers
slow down delays under 20 ms, hence the floor). Pillow stores a run of identical frames once, with their
durations added up: the animation plays for the same time with fewer stored frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rlkit.core.diskio import writing
from rlkit.core.errors import UserError
from rlkit.core.gif import gif_bytes, gif_frame_ms  # noqa: F401  (part of this module's API)

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
    import imageio.v2 as imageio

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
