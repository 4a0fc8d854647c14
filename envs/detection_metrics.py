"""Detection metrics: VOC-style average precision at one IoU threshold and COCO's mAP@[.5:.95], in numpy.

Our own implementation (torchmetrics' MeanAveragePrecision needs pycocotools or faster-coco-eval as a
backend, neither of which rlkit depends on); tests/test_detection.py checks it on a hand-made case whose
answer is worked out by hand. Definitions, as the two benchmarks define them:

* A detection (image, class, score, box) is a true positive when its IoU with a not yet matched ground-truth
  box of its class in its image is >= the threshold (detections taken by falling score, each matching the
  unmatched ground truth it overlaps most); otherwise a false positive (duplicates included: so NMS matters).
* VOC (2010 and later) AP: the area under the precision-recall curve after precision is made monotone
  (precision at recall r = the best precision at any recall >= r), all points.
* COCO AP: the same monotone precision read at 101 recall points 0, 0.01, ..., 1 and averaged; mAP@[.5:.95]
  averages it over IoU thresholds 0.5, 0.55, ..., 0.95.
* The mean is over the classes that have ground truth in the set (a class with ground truth but no
  detection scores 0). VOC's "difficult" objects are not modelled: a loader leaves them out.
"""

from __future__ import annotations

import numpy as np

COCO_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.951, 0.05), 2))


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of (N, 4) and (M, 4) boxes (x1, y1, x2, y2)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=-1)
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def match_detections(
    dets: list[np.ndarray], gts: list[np.ndarray], cls: int, thresholds: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray, int]:
    """(scores by falling score, true-positive flags (T, D) at each IoU threshold, number of ground-truth
    boxes) of class `cls`'s D detections over all images. dets[i]: (K, 6) x1, y1, x2, y2, score, label;
    gts[i]: (G, 5) boxes, label. Matching is greedy per image by falling score (images are independent)."""
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
            for k in np.flatnonzero(ious.max(axis=1) >= thr.min()):  # the others miss at every threshold
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


def precision_recall(tp: np.ndarray, n_gt: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection (tp sorted by falling score)."""
    hits = np.cumsum(tp)
    return hits / np.arange(1, len(tp) + 1), hits / max(n_gt, 1)


def voc_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under the monotone precision-recall curve, all points (VOC 2010+)."""
    p = np.concatenate([[0.0], precision, [0.0]])
    r = np.concatenate([[0.0], recall, [recall[-1] if len(recall) else 0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    return float(np.sum((r[1:] - r[:-1]) * p[1:]))


def coco_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """Mean of the monotone precision at recall 0, 0.01, ..., 1 (0 beyond the highest recall reached)."""
    if len(precision) == 0:
        return 0.0
    p = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, np.linspace(0, 1, 101), side="left")
    return float(np.where(idx < len(p), p[np.minimum(idx, len(p) - 1)], 0.0).mean())


def mean_ap(
    dets: list[np.ndarray],
    gts: list[np.ndarray],
    num_classes: int,
    threshold: float = 0.5,
    coco: bool = False,
) -> float:
    """Mean over classes with ground truth of AP at one IoU threshold (VOC's, or COCO's 101-point)."""
    aps = class_aps(dets, gts, num_classes, (threshold,))
    return float(np.mean([a[1 if coco else 0][0] for a in aps])) if aps else 0.0


def class_aps(
    dets: list[np.ndarray], gts: list[np.ndarray], num_classes: int, thresholds: tuple
) -> list[tuple[list[float], list[float]]]:
    """For each class with ground truth: (VOC APs, COCO APs), one per threshold."""
    out = []
    for cls in range(num_classes):
        _, tp, n_gt = match_detections(dets, gts, cls, thresholds)
        if n_gt == 0:
            continue
        curves = [precision_recall(tp[t], n_gt) for t in range(len(thresholds))]
        empty = tp.shape[1] == 0
        out.append(
            ([0.0 if empty else voc_ap(*c) for c in curves], [0.0 if empty else coco_ap(*c) for c in curves])
        )
    return out


def detection_metrics(dets: list[np.ndarray], gts: list[np.ndarray], num_classes: int) -> dict[str, float]:
    """{"map50": VOC mAP@0.5, "map": COCO mAP@[.5:.95], "map50_coco": COCO's 101-point AP at 0.5}."""
    aps = class_aps(dets, gts, num_classes, COCO_THRESHOLDS)
    if not aps:
        return {"map50": 0.0, "map": 0.0, "map50_coco": 0.0}
    voc, coco = np.mean([a[0] for a in aps], axis=0), np.mean([a[1] for a in aps], axis=0)
    return {"map50": float(voc[0]), "map": float(coco.mean()), "map50_coco": float(coco[0])}
