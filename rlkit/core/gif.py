"""Animated GIF encoding of rendered frames: TensorBoard's Images tab plays them, and videos/ keeps them."""

from __future__ import annotations

import io

import numpy as np


def gif_frame_ms(fps: float) -> int:
    """A GIF frame's duration in ms for `fps`: rounded to GIF's 10 ms unit, at least 20 ms."""
    return max(20, int(round(100.0 / fps)) * 10)


def gif_bytes(frames: np.ndarray, fps: float) -> bytes:
    """An animated, endlessly looping GIF of (T, H, W, 3) uint8 frames, all on one 256-colour palette.

    One palette (fast octree over up to 8 frames spread over the episode, no dithering) keeps colours steady
    from frame to frame and is several times faster than Pillow's per-frame median cut.
    """
    from PIL import Image  # Pillow: only when a GIF is written

    sample = frames[np.linspace(0, len(frames) - 1, num=min(8, len(frames))).round().astype(int)]
    palette = Image.fromarray(np.concatenate(list(sample), axis=0)).quantize(method=Image.Quantize.FASTOCTREE)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    buf = io.BytesIO()
    images[0].save(
        buf, format="GIF", save_all=True, append_images=images[1:], duration=gif_frame_ms(fps), loop=0
    )
    return buf.getvalue()
