"""Pictures of image translation runs: array layout helpers, side-by-side strips and the book's index.html."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np


def to_uint8(x: np.ndarray) -> np.ndarray:
    """[-1, 1] floats to uint8 [0, 255]."""
    return np.clip(np.rint((np.asarray(x, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def hwc(x: np.ndarray) -> np.ndarray:
    """(..., C, H, W) to (..., H, W, C)."""
    return np.moveaxis(x, -3, -1)


def chw(x: np.ndarray) -> np.ndarray:
    """(..., H, W, C) to (..., C, H, W)."""
    return np.ascontiguousarray(np.moveaxis(x, -1, -3))


def write_index(path: Path, rows: list[tuple[str, dict[str, str]]]) -> Path:
    """The book's index.html: a table with one row per image, columns name, input, output, target."""
    cells = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(
            f'<td><img src="{html.escape(names[k])}"></td>' if k in names else "<td></td>"
            for k in ("inputs", "outputs", "targets")
        )
        + "</tr>\n"
        for name, names in rows
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<html><body>\n<table border="1" style="table-layout: auto;">\n'
        "<tr><th>name</th><th>input</th><th>output</th><th>target</th></tr>\n"
        + cells
        + "</table>\n</body></html>\n"
    )
    return path


def strips(*columns: np.ndarray) -> np.ndarray:
    """Rows of images side by side (one column per array of (N, H, W, 3)), 2 px white gaps: (H', W', 3)."""
    gap = 2
    n, h, w = columns[0].shape[:3]
    k = len(columns)
    canvas = np.full((n * (h + gap) + gap, k * (w + gap) + gap, 3), 255, np.uint8)
    for i in range(n):
        for j, col in enumerate(columns):
            y, x = gap + i * (h + gap), gap + j * (w + gap)
            canvas[y : y + h, x : x + w] = col[i]
    return canvas
