"""Issue 18 (faces part, building blocks): center loss and its update rule, triplet loss and mining, the
verification metrics (10-fold split and accuracy, VAL@FAR, AUC, EER) against hand-computed values, and the
LFW folder/pairs reader on a fixture."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rlkit.agents.embedding_losses import center_loss, mine_triplets, triplet_loss, update_centers
from rlkit.core.errors import UserError
from rlkit.envs.face_folder import identities, read_pairs
from rlkit.envs.verification import folds, kfold_accuracy, roc_auc_eer, val_at_far, verification_metrics


def test_center_loss_and_the_books_update_rule() -> None:
    centers = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    x, y = torch.tensor([[1.0, 0.0], [3.0, 0.0], [10.0, 12.0]]), torch.tensor([0, 0, 1])
    assert math.isclose(float(center_loss(x, y, centers)), (1 + 9 + 4) / 3, rel_tol=1e-6)
    update_centers(x, y, centers, alpha=0.9)  # c -= 0.1 (c - x) for each example, from the old centers
    assert torch.allclose(centers, torch.tensor([[0.4, 0.0], [10.0, 10.2]]))


def test_triplet_loss_is_zero_when_the_margin_holds() -> None:
    emb = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # d(a, p) = 0, d(a, n) = 2
    trip = torch.tensor([[0, 1, 2]])
    assert float(triplet_loss(emb, trip, margin=0.2)) == 0.0
    assert math.isclose(float(triplet_loss(emb, trip, margin=3.0)), 1.0)


def test_mining_semi_hard_hardest_and_random() -> None:
    emb = torch.tensor([[0.0], [1.0], [1.2], [0.5], [3.0]])  # a, p (label 0); negatives 1, 2, 3
    labels = torch.tensor([0, 0, 1, 2, 3])
    semi = mine_triplets(emb, labels, 0.5, "semi_hard").tolist()
    # anchor 0: d_ap 1, d_an 1.44 / 0.25 / 9: the semi-hard one (1 < d < 1.5) is 2; anchor 1: d_an 0.04 /
    # 0.25 / 4, none in (1, 1.5): the farthest, 4
    assert semi == [[0, 1, 2], [1, 0, 4]]
    assert mine_triplets(emb, labels, 0.5, "hardest").tolist() == [[0, 1, 3], [1, 0, 2]]
    rand = mine_triplets(emb, labels, 0.5, "random", torch.Generator().manual_seed(0))
    assert rand[:, :2].tolist() == [[0, 1], [1, 0]] and set(rand[:, 2].tolist()) <= {2, 3, 4}


def test_ten_contiguous_folds_cover_every_pair_once() -> None:
    split = folds(25, 10)
    assert [len(test) for _, test in split] == [3, 3, 3, 3, 3, 2, 2, 2, 2, 2]
    assert np.array_equal(np.concatenate([test for _, test in split]), np.arange(25))
    assert all(
        len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 25 for train, test in split
    )


def outlier_case() -> tuple[np.ndarray, np.ndarray]:
    """20 pairs alternating same (0.5) / different (2.0); the first same pair is an outlier at 3.0."""
    same = np.array([True, False] * 10)
    dist = np.where(same, 0.5, 2.0)
    dist[0] = 3.0
    return dist, same


def test_verification_metrics_by_hand() -> None:
    dist, same = outlier_case()
    # fold 0 (pairs 0, 1) misses its outlier at every threshold the other folds choose: 0.5; the rest 1.0
    assert math.isclose(kfold_accuracy(dist, same)[0], (0.5 + 9) / 10)
    # ROC: (0, 0.9) until FAR jumps to 1 at threshold 2: AUC 0.9; FRR 0.1 = FAR where the line crosses: 0.1
    auc, eer = roc_auc_eer(dist, same)
    assert math.isclose(auc, 0.9) and math.isclose(eer, 0.1)
    perfect = np.where(same, 0.5, 2.005)  # FAR 0 up to threshold 2.00, 1 from 2.01 on
    assert val_at_far(perfect, same, 1e-3) == (1.0, 0.0)
    m = verification_metrics(perfect, same)
    assert m["accuracy"] == 1.0 and m["auc"] == 1.0 and m["eer"] == 0.0


def write_lfw(root: Path) -> Path:
    """Three people (ann: 2 images, bob: 1, cid: 3) and a pairs file with a header, 2 same and 2 different."""
    for name, n in (("ann", 2), ("bob", 1), ("cid", 3)):
        (root / name).mkdir(parents=True)
        for k in range(1, n + 1):
            (root / name / f"{name}_{k:04d}.jpg").write_bytes(b"jpg")
    pairs = root / "pairs.txt"
    pairs.write_text("2 1\nann 1 2\nann 1 bob 1\ncid 1 3\nbob 1 cid 2\n")
    return pairs


def test_lfw_pairs_and_identities_from_a_fixture(tmp_path: Path) -> None:
    pairs_file = write_lfw(tmp_path)
    pairs, same = read_pairs(tmp_path, pairs_file)
    assert same.tolist() == [True, False, True, False]
    assert pairs[1] == (tmp_path / "ann" / "ann_0001.jpg", tmp_path / "bob" / "bob_0001.jpg")
    assert {k: len(v) for k, v in identities(tmp_path, min_images=2).items()} == {"ann": 2, "cid": 3}
    pairs_file.write_text("ann 1 7\n")
    with pytest.raises(UserError, match="ann_0007.jpg not found"):
        read_pairs(tmp_path, pairs_file)
    pairs_file.write_text("ann one two\n")
    with pytest.raises(UserError, match="is not 'name n1 n2'"):
        read_pairs(tmp_path, pairs_file)
