"""Face-embedding losses (book chapter 6): center loss and the triplet loss with in-batch mining.

Building blocks for an embedding agent (issue 18, faces part; the agent itself is not written yet), each
checked against hand-computed values in tests/agents/test_embedding_losses.py.

* Center loss (Wen et al. 2016, as the book's FaceNet code `center_loss` has it): each class keeps a center
  c_y; the loss is mean ||x - c_y||^2 over the batch, added to the softmax loss with weight lambda; the
  centers are not trained by the optimiser but moved after each batch: c_y <- c_y - (1 - alpha)(c_y - x),
  with the book's alpha 0.9 (each center moves 10% of the way to its features; a class seen several times in
  a batch moves once per example, as TF's scatter_sub does).
* Triplet loss (FaceNet): mean over triplets of max(||a - p||^2 - ||a - n||^2 + margin, 0) on L2-normalised
  embeddings. Triplets are mined in the batch for every (anchor, positive) pair of one identity:
  semi-hard (the FaceNet paper's choice: d(a, p) < d(a, n) < d(a, p) + margin, and among those the closest,
  as TensorFlow Addons' triplet_semihard_loss; when an anchor has no semi-hard negative, its farthest
  negative: the easiest, so the hardest negatives, which the paper found to collapse training early, are
  never forced on it), hardest (the closest negative) or random (any negative).
"""

from __future__ import annotations

import torch

MINING = ("semi_hard", "hardest", "random")


def center_loss(features: torch.Tensor, labels: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """mean over the batch of ||x_i - c_{y_i}||^2 (centers (num_classes, dim) are constants here)."""
    return ((features - centers[labels].detach()) ** 2).sum(dim=1).mean()


@torch.no_grad()
def update_centers(features: torch.Tensor, labels: torch.Tensor, centers: torch.Tensor, alpha: float) -> None:
    """In place: c_y -= (1 - alpha) * (c_y - x) for each example (x, y), all with the centers before the
    update (the book's scatter_sub)."""
    diff = (1 - alpha) * (centers[labels] - features.detach())
    centers.index_add_(0, labels, -diff)


def pairwise_sq_distances(emb: torch.Tensor) -> torch.Tensor:
    """(N, N) squared Euclidean distances between rows."""
    sq = (emb * emb).sum(dim=1)
    return (sq[:, None] - 2 * emb @ emb.T + sq[None, :]).clamp(min=0)


def mine_triplets(
    emb: torch.Tensor,
    labels: torch.Tensor,
    margin: float,
    mining: str,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(T, 3) indices (anchor, positive, negative): one triplet per ordered same-label pair (a != p),
    the negative chosen by `mining` (module docstring) from the batch's other labels."""
    d = pairwise_sq_distances(emb.detach())
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=emb.device)
    anchors, positives = torch.nonzero(same & ~eye, as_tuple=True)
    if len(anchors) == 0 or same.all():
        return torch.zeros(0, 3, dtype=torch.long, device=emb.device)
    neg_ok = ~same[anchors]  # (T, N)
    d_an, d_ap = d[anchors], d[anchors, positives][:, None]
    inf = torch.full_like(d_an, float("inf"))
    if mining == "hardest":
        negatives = torch.where(neg_ok, d_an, inf).argmin(dim=1)
    elif mining == "random":
        noise = torch.rand(d_an.shape, generator=generator, device=emb.device)
        negatives = torch.where(neg_ok, noise, -inf).argmax(dim=1)
    else:
        semi = neg_ok & (d_an > d_ap) & (d_an < d_ap + margin)
        closest_semi = torch.where(semi, d_an, inf).argmin(dim=1)
        farthest = torch.where(neg_ok, d_an, -inf).argmax(dim=1)
        negatives = torch.where(semi.any(dim=1), closest_semi, farthest)
    return torch.stack([anchors, positives, negatives], dim=1)


def triplet_loss(emb: torch.Tensor, triplets: torch.Tensor, margin: float) -> torch.Tensor:
    """mean of max(||a - p||^2 - ||a - n||^2 + margin, 0) over the (T, 3) index triplets of `emb`."""
    if len(triplets) == 0:
        return emb.sum() * 0.0
    a, p, n = emb[triplets[:, 0]], emb[triplets[:, 1]], emb[triplets[:, 2]]
    return (((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + margin).clamp(min=0).mean()
