"""Offline detection scenes: coloured shapes on textured backgrounds cut from scikit-learn's bundled photos.

Each scene is an RGB image (3, S, S) uint8 with 1-6 objects of CLASSES (circle, square, triangle, cross),
each of a random size (from 12% to 50% of the image side), aspect (0.7-1.4), colour and place; objects may
overlap (the later one drawn on top, covering at most `max_overlap` of the smaller box, so each stays
visible). The background is a random crop of china.jpg or flower.jpg (scikit-learn's sample images, in its
wheel), rescaled, with its contrast lowered, so the texture is real but the shapes stay visible. The same
seed gives the same scenes; the train and test splits draw from different seeds (a held-out set).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

CLASSES = ("circle", "square", "triangle", "cross")


@lru_cache(maxsize=1)
def _photos() -> tuple[np.ndarray, ...]:
    """scikit-learn's two bundled sample photos at a third of their size, (H, W, 3) uint8 (in its wheel)."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    photos = (Image.fromarray(load_sample_image(name)) for name in ("china.jpg", "flower.jpg"))
    return tuple(np.asarray(p.resize((p.width // 3, p.height // 3), Image.BILINEAR)) for p in photos)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A (size, size, 3) uint8 texture: a random crop of a bundled photo, rescaled, with lowered contrast."""
    from PIL import Image

    photo = _photos()[int(rng.integers(2))]
    crop = int(rng.integers(min(size, min(photo.shape[:2]) - 1), min(photo.shape[:2])))
    y, x = int(rng.integers(photo.shape[0] - crop + 1)), int(rng.integers(photo.shape[1] - crop + 1))
    img = Image.fromarray(photo[y : y + crop, x : x + crop]).resize((size, size), Image.BILINEAR)
    tex = np.asarray(img, dtype=np.float32)
    return (tex.mean() + 0.5 * (tex - tex.mean())).clip(0, 255).astype(np.uint8)


def _overlap(a: tuple, b: tuple) -> float:
    """The share of the smaller of boxes a and b that the other covers."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


def draw_shape(pen, cls: int, box: tuple[float, float, float, float], colour: tuple[int, int, int]) -> None:
    """Draws class `cls` filling `box` (x1, y1, x2, y2) with PIL's ImageDraw `pen`."""
    x1, y1, x2, y2 = box
    if CLASSES[cls] == "circle":
        pen.ellipse(box, fill=colour)
    elif CLASSES[cls] == "square":
        pen.rectangle(box, fill=colour)
    elif CLASSES[cls] == "triangle":
        pen.polygon([((x1 + x2) / 2, y1), (x2, y2), (x1, y2)], fill=colour)
    else:
        tx, ty = (x2 - x1) / 3, (y2 - y1) / 3
        pen.rectangle((x1 + tx, y1, x2 - tx, y2), fill=colour)
        pen.rectangle((x1, y1 + ty, x2, y2 - ty), fill=colour)


def make_scene(
    rng: np.random.Generator, size: int = 64, max_objects: int = 6, max_overlap: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """(image (3, size, size) uint8, objects (k, 5) float32 rows x1, y1, x2, y2, class) with 1..max_objects
    objects; boxes are in pixels, x2/y2 exclusive (a box covering pixels 0..9 is 0, 10)."""
    from PIL import Image, ImageDraw

    canvas = Image.fromarray(background(rng, size))
    pen = ImageDraw.Draw(canvas)
    objects: list[tuple[float, float, float, float, float]] = []
    wanted = int(rng.integers(1, max_objects + 1))
    for _ in range(wanted * 20):  # placements that overlap too much are redrawn
        if len(objects) == wanted:
            break
        side = rng.uniform(0.12, 0.5) * size
        aspect = rng.uniform(0.7, 1.4)
        w, h = max(side * aspect**0.5, 4.0), max(side / aspect**0.5, 4.0)
        w, h = round(min(w, size)), round(min(h, size))
        x1, y1 = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
        box = (x1, y1, x1 + w, y1 + h)
        if any(_overlap(box, o[:4]) > max_overlap for o in objects):
            continue
        cls = int(rng.integers(len(CLASSES)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if max(colour) - min(colour) < 120:  # saturated colours: a shape stands out from the dimmed photo
            bright = int(rng.integers(3))
            colour = tuple(255 if k == bright else c // 3 for k, c in enumerate(colour))
        draw_shape(pen, cls, (x1, y1, x1 + w - 1, y1 + h - 1), colour)
        objects.append((*box, float(cls)))
    image = np.asarray(canvas, dtype=np.uint8).transpose(2, 0, 1).copy()
    return image, np.array(objects, dtype=np.float32).reshape(-1, 5)


def make_scenes(n: int, seed: int, size: int = 64, max_objects: int = 6) -> tuple[np.ndarray, list]:
    """(images (n, 3, size, size) uint8, list of n (k, 5) object arrays), the same for the same seed."""
    rng = np.random.default_rng(seed)
    scenes = [make_scene(rng, size, max_objects) for _ in range(n)]
    return np.stack([s[0] for s in scenes]), [s[1] for s in scenes]
