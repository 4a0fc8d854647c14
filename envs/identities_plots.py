"""What `rlkit play` writes for a face-embedding run: the 2-D feature plot, compare.py's distance matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError


def to_2d(features: np.ndarray) -> tuple[np.ndarray, str]:
    """(N, 2) points and how they were made: the features themselves when 2-D, else their first two
    principal components."""
    features = np.asarray(features, dtype=np.float64)
    if features.shape[1] <= 2:
        return np.pad(features, ((0, 0), (0, 2 - features.shape[1]))), "features"
    centred = features - features.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T, "PCA of the features"


def embedding_plot(features: np.ndarray, labels: np.ndarray, names: list[str], path: Path) -> Path:
    """A scatter plot of the features in 2-D, one colour per identity, the first 20 identities (the book's
    Fig 6-10/6-11)."""
    import matplotlib  # only when the plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points, how = to_2d(features)
    fig, ax = plt.subplots(figsize=(6, 6))
    shown = np.unique(labels)[:20]  # more colours would not tell identities apart
    for k in shown:
        rows = labels == k
        ax.scatter(points[rows, 0], points[rows, 1], s=6, label=names[int(k)][:12])
    count = int(np.isin(labels, shown).sum())
    ax.set_title(f"{count} images of {len(shown)} identities, {features.shape[1]}-D embedding ({how})")
    ax.legend(markerscale=3, fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def distance_report(paths: list[Path], emb: np.ndarray) -> str:
    """compare.py's printout: the numbered images, then the matrix of Euclidean distances."""
    emb = np.asarray(emb, dtype=np.float64)
    dist = np.sqrt(((emb[:, None, :] - emb[None, :, :]) ** 2).sum(-1))
    lines = ["Images:", *(f"{i}: {p}" for i, p in enumerate(paths)), "", "Distance matrix"]
    lines.append("    " + "".join(f"{i:>10d}" for i in range(len(paths))))
    for i, row in enumerate(dist):
        lines.append(f"{i:<4d}" + "".join(f"{d:10.4f}" for d in row))
    return "\n".join(lines) + "\n"


def load_images(paths: list[Path], shape: tuple[int, ...]) -> np.ndarray:
    """The images at `paths` as uint8 (N, C, H, W) of `shape` (C, H, W): grey or RGB, resized."""
    from PIL import Image

    c, h, w = shape
    out = []
    for path in paths:
        try:
            img = Image.open(path).convert("L" if c == 1 else "RGB")
        except OSError as err:
            raise UserError(f"input={path}: not an image Pillow can read ({err})") from err
        arr = np.asarray(img.resize((w, h), Image.BILINEAR), dtype=np.uint8)
        out.append(arr[None] if c == 1 else arr.transpose(2, 0, 1))
    return np.stack(out)
