"""Show, Attend and Tell's figure: an image with each generated word's attention over it, one panel a word.

A captioning agent with soft attention weighs the positions of its CNN's feature map (an 8x8 grid for a 32x32
scene) for every word it writes. Each panel here upsamples that word's weights bilinearly to the picture's
size (the paper upsamples by 16 and blurs), lights the attended part and dims the rest, and names the word
above it (rlkit.envs.shapes_captions.CaptionsEnv.rollout_files writes one figure per test image).
"""

from __future__ import annotations

import math

import numpy as np

SCALE = 4  # pixels of a panel per pixel of the image
GAP = 4  # white pixels after each panel
LABEL = 14  # pixels of the word above a panel


def grid_shape(positions: int, height: int, width: int) -> tuple[int, int]:
    """(rows, columns) of a feature map of `positions` cells over an image of height x width (its aspect
    kept); (1, positions) when no such grid exists."""
    rows = max(1, round(math.sqrt(positions * height / width)))
    return (rows, positions // rows) if positions % rows == 0 else (1, positions)


def attention_panels(image: np.ndarray, weights: np.ndarray, words: list[str]) -> np.ndarray:
    """(H', W', 3) uint8 figure of image (3, H, W) uint8 with one panel per word; weights (>= len(words),
    positions): row k is the attention of word k over the feature map's cells."""
    from PIL import Image, ImageDraw  # Pillow: only when a picture is drawn

    _, h, w = image.shape
    rows, cols = grid_shape(weights.shape[-1], h, w)
    size = (w * SCALE, h * SCALE)
    base = np.asarray(Image.fromarray(image.transpose(1, 2, 0)).resize(size, Image.NEAREST), np.float32)
    canvas = Image.new("RGB", (max(1, len(words)) * (size[0] + GAP), size[1] + LABEL), (255, 255, 255))
    pen = ImageDraw.Draw(canvas)
    for k, word in enumerate(words):
        att = np.asarray(weights[k], np.float32).reshape(rows, cols)
        att = att / max(float(att.max()), 1e-12)
        up = np.asarray(Image.fromarray(att).resize(size, Image.BILINEAR))[..., None]  # (H', W', 1) in [0, 1]
        panel = base * (0.25 + 0.75 * up) + 64.0 * up  # attended cells lit, the rest dimmed
        x = k * (size[0] + GAP)
        canvas.paste(Image.fromarray(panel.clip(0, 255).astype(np.uint8)), (x, LABEL))
        pen.text((x + 2, 1), word, fill=(0, 0, 0))
    return np.asarray(canvas)
