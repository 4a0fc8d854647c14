"""Issue 18, round 2: the mAP matching vectorised across images gives exactly what the per-image, per-class
loop it replaced gave (kept below as the reference), on random sets built to hit its corner cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rlkit.envs.detection_metrics as detection_metrics_module
from rlkit.envs.detection_metrics import (
    COCO_THRESHOLDS,
    detection_metrics,
    iou_matrix,
    match_detections,
    mean_ap,
)


def reference_match(
    dets: list[np.ndarray], gts: list[np.ndarray], cls: int, thresholds: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray, int]:
    """The implementation before round 2 (envs/detection_metrics.py at 2cb93b8), verbatim: one class,
    image by image, greedy by falling score."""
    thr = np.asarray(thresholds)[:, None]
    scores, flags, n_gt = [], [], 0
    for d, g in zip(dets, gts):
        d, g = d[d[:, 5] == cls], g[g[:, 4] == cls, :4]
        n_gt += len(g)
        if len(d) == 0:
            continue
        d = d[np.argsort(-d[:, 4], kind="stable")]
        tp = np.zeros((len(thr), len(d)), dtype=bool)
        if len(g):
            ious = iou_matrix(d[:, :4], g)  # (K, G)
            used = np.zeros((len(thr), len(g)), dtype=bool)
            rows = np.arange(len(thr))
            for k in np.flatnonzero(ious.max(axis=1) >= thr.min()):
                free = np.where(used, -1.0, ious[k][None])  # (T, G)
                best = free.argmax(axis=1)
                hit = free[rows, best] >= thr[:, 0]
                tp[hit, k], used[rows[hit], best[hit]] = True, True
        scores.append(d[:, 4])
        flags.append(tp)
    if not scores:
        return np.zeros(0), np.zeros((len(thr), 0), dtype=bool), n_gt
    scores_all = np.concatenate(scores)
    order = np.argsort(-scores_all, kind="stable")
    return scores_all[order], np.concatenate(flags, axis=1)[:, order], n_gt


def random_set(rng: np.random.Generator, dtype: type) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """Images with 0-7 objects and 0-30 detections near them (duplicates, wrong classes, tied scores,
    boxes on a coarse grid so that IoUs tie and sit exactly on thresholds, empty and out-of-range labels)."""
    n_cls = int(rng.integers(1, 5))
    dets, gts = [], []
    for _ in range(int(rng.integers(0, 12))):
        corner = rng.integers(0, 8, (int(rng.integers(0, 8)), 2)) * 2.0
        side = rng.integers(1, 6, corner.shape) * 2.0
        objects = np.c_[corner, corner + side, rng.integers(0, n_cls, len(corner))]
        n = int(rng.integers(0, 31))
        if len(objects) and n:
            src = objects[rng.integers(0, len(objects), n)]
            boxes = src[:, :4] + rng.integers(-2, 3, (n, 4)) * rng.choice([0.0, 1.0, 0.5], (n, 1))
            labels = np.where(rng.random(n) < 0.2, rng.integers(-1, n_cls + 1, n), src[:, 4])
        else:
            boxes = rng.integers(0, 20, (n, 4)) * 1.0
            boxes[:, 2:] += boxes[:, :2]
            labels = rng.integers(-1, n_cls + 1, n)
        scores = rng.choice([0.1, 0.5, 0.9], n) if rng.random() < 0.5 else rng.random(n)
        dets.append(np.c_[boxes, scores, labels].astype(dtype))
        gts.append(objects.astype(dtype))
    return dets, gts, n_cls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vectorised_matching_equals_the_per_image_loop_on_random_sets(dtype: type) -> None:
    rng = np.random.default_rng(0)
    thresholds = [(0.5,), COCO_THRESHOLDS, (0.0, 0.3, 1.0)]
    checked = 0
    for trial in range(150):
        dets, gts, n_cls = random_set(rng, dtype)
        thr = thresholds[trial % 3]
        new = match_detections(dets, gts, n_cls, thr)
        assert len(new) == n_cls
        for cls in range(n_cls):
            scores, tp, n_gt = reference_match(dets, gts, cls, thr)
            assert new[cls][2] == n_gt
            assert np.array_equal(new[cls][0], scores) and new[cls][1].shape == tp.shape
            assert np.array_equal(new[cls][1], tp), (trial, cls)
            checked += int(tp.sum())
        assert detection_metrics(dets, gts, n_cls) == reference_metrics(dets, gts, n_cls)
    assert checked > 1000  # the sets do produce true positives to compare


def reference_metrics(dets: list[np.ndarray], gts: list[np.ndarray], n_cls: int) -> dict[str, float]:
    """detection_metrics computed on the reference matching."""
    from rlkit.envs.detection_metrics import coco_ap, precision_recall, voc_ap

    voc, coco = [], []
    for cls in range(n_cls):
        _, tp, n_gt = reference_match(dets, gts, cls, COCO_THRESHOLDS)
        if n_gt == 0:
            continue
        curves = [precision_recall(tp[t], n_gt) for t in range(len(COCO_THRESHOLDS))]
        empty = tp.shape[1] == 0
        voc.append([0.0 if empty else voc_ap(*c) for c in curves])
        coco.append([0.0 if empty else coco_ap(*c) for c in curves])
    if not voc:
        return {"map50": 0.0, "map": 0.0, "map50_coco": 0.0}
    v, c = np.mean(voc, axis=0), np.mean(coco, axis=0)
    return {"map50": float(v[0]), "map": float(c.mean()), "map50_coco": float(c[0])}


def test_large_sets_are_matched_in_chunks_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    dets, gts = [], []
    for _ in range(100):
        objects = np.c_[rng.uniform(0, 40, (5, 2)), rng.uniform(45, 60, (5, 2)), rng.integers(0, 3, 5)]
        src = objects[rng.integers(0, 5, 40)]
        dets.append(np.c_[src[:, :4] + rng.normal(0, 3, (40, 4)), rng.random(40), src[:, 4]])
        gts.append(objects)
    whole = match_detections(dets, gts, 3, COCO_THRESHOLDS)
    monkeypatch.setattr(detection_metrics_module, "CHUNK", 40 * 5 * 7)  # 7 images at a time
    chunked = match_detections(dets, gts, 3, COCO_THRESHOLDS)
    for c in range(3):
        reference = reference_match(dets, gts, c, COCO_THRESHOLDS)[1]
        assert reference.sum() > 50
        assert np.array_equal(whole[c][1], reference) and np.array_equal(chunked[c][1], reference)


def test_hand_case_by_rank_across_images() -> None:
    """Two images whose detections tie in score: the ranking is by image, then row, and each image's
    duplicate is a false positive however the images interleave."""
    gts = [np.array([[0, 0, 10, 10, 0]], float), np.array([[0, 0, 10, 10, 0]], float)]
    dets = [
        np.array([[0, 0, 10, 10, 0.5, 0], [0, 0, 10, 10, 0.9, 0]], float),  # the 0.9 takes the box
        np.array([[0, 0, 10, 10, 0.5, 0], [50, 50, 60, 60, 0.5, 0]], float),  # TP, then a miss
    ]
    scores, tp, n_gt = match_detections(dets, gts, 1, (0.5,))[0]
    assert n_gt == 2 and list(scores) == [0.9, 0.5, 0.5, 0.5]
    assert tp[0].tolist() == [True, False, True, False]  # image 0's 0.5 duplicate, image 1's TP, its miss
    # precision 1, 1/2, 2/3, 2/4 at recall 1/2, 1/2, 1, 1: VOC AP = 0.5 * 1 + 0.5 * 2/3
    assert math.isclose(mean_ap(dets, gts, 1, 0.5), 0.5 + 0.5 * 2 / 3)
