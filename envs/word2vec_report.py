"""What a trained word2vec agent has learned, for people: the book's "Nearest to X" report and a 2-D map
of the most frequent words (PCA, or t-SNE as in the book's tsne.png). rlkit.envs.word2vec's
`rollout_files` and render("ansi") use them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlkit.envs.supervised import check_choice

MAP_METHODS = ("pca", "tsne")


def neighbour_report(agent: Any, env: Any, words: list[str] | None = None, k: int | None = None) -> str:
    """ "Nearest to X: a, b, c" lines (the book's format) for `words` (default: env.report_queries())."""
    base = env.unwrapped if hasattr(env, "unwrapped") else env
    k = k or base.k
    ids = np.asarray(base.vocab.ids(words)) if words else base.report_queries()
    found, _ = agent.nearest(ids, k)
    partner = {a: b for a, b in base.synonym_pairs} | {b: a for a, b in base.synonym_pairs}
    w = base.vocab.words
    lines = []
    for q, row in zip(ids, found):
        line = f"Nearest to {w[q]}: {', '.join(w[i] for i in row)}"
        if int(q) in partner:
            hit = np.flatnonzero(row == partner[int(q)])
            line += (
                f"   [planted partner {w[partner[int(q)]]}: {f'rank {hit[0] + 1}' if len(hit) else 'missed'}]"
            )
        lines.append(line)
    return "\n".join(lines) + "\n"


def project_2d(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(n, 2) coordinates of (n, d) vectors: PCA (the top two principal axes) or t-SNE (scikit-learn)."""
    check_choice("map_method", method, MAP_METHODS)
    x = np.asarray(vectors, dtype=np.float64)
    x = x - x.mean(axis=0)
    if method == "tsne" and len(x) > 3:
        from sklearn.manifold import TSNE  # scikit-learn (slow to import): only for t-SNE

        tsne = TSNE(n_components=2, perplexity=min(30.0, (len(x) - 1) / 3), init="pca", random_state=seed)
        return tsne.fit_transform(x)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def embedding_map_png(
    vectors: np.ndarray,
    labels: list[str],
    path: str | Path,
    method: str = "pca",
    pairs: list[tuple[int, int]] | None = None,
) -> Path:
    """A labelled scatter plot of the vectors in 2-D (the book's tsne.png), `pairs` joined by lines."""
    import matplotlib  # ~0.5 s to import: only when the map is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xy = project_2d(vectors, method)
    size = 6 + len(labels) / 25
    fig, ax = plt.subplots(figsize=(size, size))
    for a, b in pairs or []:
        ax.plot(*xy[[a, b]].T, color="tab:orange", linewidth=1, zorder=1)
    ax.scatter(xy[:, 0], xy[:, 1], s=12, zorder=2)
    for (x, y), label in zip(xy, labels):
        ax.annotate(label, (x, y), xytext=(4, 2), textcoords="offset points", fontsize=8)
    note = ", planted synonyms joined" if pairs else ""
    ax.set_title(f"word2vec: the {len(labels)} most frequent words ({method.upper()}{note})")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
